"""The generator's own store: 50 product types, their option axes and price ranges, and
name/place lists for customers. Our own lists; nothing here comes from τ-bench's data."""

# name: (low price, high price, {option: values})
PRODUCTS: dict[str, tuple[int, int, dict[str, list[str]]]] = {
    "T-Shirt": (15, 60, {"color": ["black", "white", "navy", "red", "green"], "size": ["S", "M", "L", "XL"], "fit": ["regular", "slim"]}),
    "Hoodie": (35, 120, {"color": ["grey", "black", "olive"], "size": ["S", "M", "L", "XL"], "zipper": ["full", "none"]}),
    "Jeans": (40, 150, {"waist": ["30", "32", "34", "36"], "cut": ["straight", "skinny", "relaxed"], "wash": ["light", "dark"]}),
    "Running Shoes": (60, 220, {"size": ["8", "9", "10", "11"], "color": ["black", "blue", "white"], "cushioning": ["firm", "soft"]}),
    "Hiking Boots": (90, 300, {"size": ["8", "9", "10", "11", "12"], "material": ["leather", "synthetic"], "waterproof": ["yes", "no"]}),
    "Rain Jacket": (50, 200, {"color": ["yellow", "navy", "black"], "size": ["S", "M", "L"], "hood": ["fixed", "packable"]}),
    "Backpack": (30, 180, {"capacity": ["18L", "25L", "32L"], "color": ["black", "grey", "teal"], "laptop sleeve": ["yes", "no"]}),
    "Suitcase": (80, 400, {"size": ["carry-on", "medium", "large"], "shell": ["hard", "soft"], "color": ["silver", "black", "blue"]}),
    "Wallet": (20, 90, {"material": ["leather", "canvas"], "style": ["bifold", "trifold", "card holder"]}),
    "Sunglasses": (25, 250, {"frame": ["metal", "acetate"], "lens": ["polarized", "standard"], "color": ["black", "tortoise", "gold"]}),
    "Wristwatch": (60, 600, {"strap": ["leather", "steel", "silicone"], "dial": ["black", "white", "blue"], "size": ["38mm", "42mm"]}),
    "Smartwatch": (150, 500, {"case": ["aluminum", "steel"], "size": ["41mm", "45mm"], "band": ["sport", "loop", "metal"]}),
    "Headphones": (40, 450, {"type": ["over-ear", "on-ear", "in-ear"], "connectivity": ["wired", "wireless"], "color": ["black", "white"]}),
    "Bluetooth Speaker": (30, 300, {"size": ["mini", "standard", "large"], "color": ["black", "red", "blue"], "waterproof": ["yes", "no"]}),
    "Laptop": (600, 2600, {"screen": ["13-inch", "15-inch"], "memory": ["8GB", "16GB", "32GB"], "storage": ["256GB", "512GB", "1TB"]}),
    "Tablet": (200, 1200, {"screen": ["8-inch", "11-inch"], "storage": ["64GB", "128GB", "256GB"], "color": ["silver", "graphite"]}),
    "E-Reader": (90, 300, {"screen": ["6-inch", "7-inch"], "storage": ["8GB", "32GB"], "connectivity": ["wi-fi", "wi-fi + cellular"]}),
    "Smartphone Case": (10, 60, {"model": ["A", "B", "C"], "material": ["silicone", "leather", "clear"], "color": ["black", "pink", "clear"]}),
    "Power Bank": (20, 120, {"capacity": ["5000mAh", "10000mAh", "20000mAh"], "ports": ["1", "2", "3"]}),
    "Mechanical Keyboard": (60, 260, {"switches": ["linear", "tactile", "clicky"], "layout": ["full", "tenkeyless", "compact"], "backlight": ["none", "white", "RGB"]}),
    "Wireless Mouse": (20, 140, {"grip": ["palm", "claw"], "color": ["black", "white"], "sensor": ["optical", "laser"]}),
    "Monitor": (150, 900, {"size": ["24-inch", "27-inch", "32-inch"], "resolution": ["1080p", "1440p", "4K"]}),
    "Webcam": (30, 200, {"resolution": ["720p", "1080p", "4K"], "microphone": ["yes", "no"]}),
    "Digital Camera": (300, 2500, {"resolution": ["20MP", "24MP", "30MP"], "zoom": ["3x", "5x", "10x"], "weatherproof": ["yes", "no"]}),
    "Action Camera": (120, 500, {"resolution": ["1080p", "4K", "5K"], "mount": ["helmet", "chest", "handlebar"]}),
    "Desk Lamp": (20, 150, {"color": ["black", "white", "brass"], "light": ["warm", "cool", "adjustable"], "base": ["clamp", "weighted"]}),
    "Office Chair": (120, 700, {"material": ["mesh", "fabric", "leather"], "color": ["black", "grey", "blue"], "armrests": ["fixed", "adjustable"]}),
    "Standing Desk": (250, 900, {"width": ["48-inch", "60-inch", "72-inch"], "top": ["oak", "walnut", "white"], "motor": ["single", "dual"]}),
    "Bookshelf": (60, 400, {"height": ["3-shelf", "5-shelf"], "finish": ["oak", "white", "black"], "material": ["wood", "metal"]}),
    "Sofa Cushion": (15, 70, {"color": ["beige", "teal", "rust"], "size": ["16-inch", "20-inch"], "fill": ["foam", "feather"]}),
    "Bed Sheets": (30, 200, {"size": ["twin", "queen", "king"], "material": ["cotton", "linen", "bamboo"], "color": ["white", "grey", "sage"]}),
    "Pillow": (20, 120, {"firmness": ["soft", "medium", "firm"], "fill": ["memory foam", "down", "polyester"]}),
    "Coffee Maker": (40, 400, {"type": ["drip", "espresso", "pour-over"], "capacity": ["1 cup", "4 cups", "12 cups"], "color": ["black", "steel"]}),
    "Electric Kettle": (25, 150, {"capacity": ["1L", "1.5L", "1.7L"], "material": ["glass", "steel", "plastic"], "temperature control": ["yes", "no"]}),
    "Blender": (40, 450, {"capacity": ["1L", "1.5L", "2L"], "power": ["600W", "1000W", "1500W"], "color": ["black", "red", "white"]}),
    "Toaster": (25, 200, {"slots": ["2", "4"], "color": ["steel", "black", "cream"], "bagel mode": ["yes", "no"]}),
    "Air Fryer": (60, 300, {"capacity": ["3 quarts", "5 quarts", "8 quarts"], "window": ["yes", "no"], "color": ["black", "white"]}),
    "Cookware Set": (80, 600, {"pieces": ["5", "8", "12"], "material": ["stainless steel", "nonstick", "cast iron"]}),
    "Chef Knife": (25, 300, {"blade": ["6-inch", "8-inch", "10-inch"], "steel": ["German", "Japanese"], "handle": ["wood", "composite"]}),
    "Water Bottle": (10, 60, {"capacity": ["500ml", "750ml", "1L"], "material": ["steel", "glass", "plastic"], "color": ["blue", "green", "black"]}),
    "Yoga Mat": (20, 120, {"thickness": ["4mm", "6mm", "8mm"], "material": ["PVC", "natural rubber", "TPE"], "color": ["purple", "blue", "grey"]}),
    "Dumbbell Set": (40, 500, {"weight range": ["5-25 lbs", "10-50 lbs", "5-50 lbs"], "type": ["fixed", "adjustable"]}),
    "Bicycle Helmet": (30, 250, {"size": ["S", "M", "L"], "color": ["black", "white", "orange"], "MIPS": ["yes", "no"]}),
    "Camping Tent": (80, 700, {"capacity": ["2-person", "4-person", "6-person"], "season": ["3-season", "4-season"], "color": ["green", "orange"]}),
    "Sleeping Bag": (40, 350, {"rating": ["20F", "35F", "50F"], "fill": ["down", "synthetic"], "shape": ["mummy", "rectangular"]}),
    "Board Game": (15, 90, {"players": ["2", "2-4", "2-6"], "theme": ["strategy", "party", "cooperative"], "age": ["8+", "12+"]}),
    "Jigsaw Puzzle": (10, 60, {"pieces": ["500", "1000", "1500"], "theme": ["landscape", "animals", "art"], "difficulty": ["easy", "medium", "hard"]}),
    "Perfume": (30, 300, {"scent": ["citrus", "woody", "floral"], "size": ["30ml", "50ml", "100ml"], "gender": ["women", "men", "unisex"]}),
    "Electric Toothbrush": (30, 250, {"color": ["white", "black", "pink"], "modes": ["2", "3", "5"], "travel case": ["yes", "no"]}),
    "Vacuum Cleaner": (90, 800, {"type": ["upright", "robotic", "handheld"], "bag": ["bagged", "bagless"], "power": ["corded", "cordless"]}),
}

FIRST_NAMES = ["Ava", "Liam", "Noah", "Emma", "Olivia", "Mateo", "Sofia", "Yusuf", "Aisha", "Chen", "Mei", "Hiro", "Yuki", "Arjun", "Priya", "Kofi", "Amara", "Diego", "Lucia", "Omar", "Fatima", "Ivan", "Olga", "Lars", "Ingrid", "Pierre", "Chloe", "Marco", "Giulia", "Tomas", "Elena", "Kwame", "Zara", "Raj", "Anika", "Samuel", "Grace", "Daniel", "Leah", "Ethan", "Mia", "Lucas", "Isabella", "James", "Harper", "Ren", "Sana", "Ibrahim", "Nia", "Felix", "Hana", "Jonas", "Freya", "Mohamed", "Layla", "Andre", "Camila", "Victor", "Rosa", "Emeka", "Adaeze"]
LAST_NAMES = ["Smith", "Garcia", "Nguyen", "Kim", "Patel", "Okafor", "Rossi", "Muller", "Silva", "Haddad", "Tanaka", "Ivanova", "Kowalski", "Johansson", "Dubois", "Moreno", "Lopez", "Chen", "Wang", "Singh", "Khan", "Ahmed", "Mensah", "Sato", "Novak", "Costa", "Fischer", "Martin", "Brown", "Davis", "Wilson", "Taylor", "Anderson", "Thomas", "Jackson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "Allen", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter", "Mitchell", "Perez", "Roberts", "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards", "Collins"]
# (city, state, zip prefix)
CITIES = [("Seattle", "WA", "981"), ("Portland", "OR", "972"), ("San Francisco", "CA", "941"),
          ("Los Angeles", "CA", "900"), ("San Diego", "CA", "921"), ("Phoenix", "AZ", "850"),
          ("Denver", "CO", "802"), ("Austin", "TX", "787"), ("Houston", "TX", "770"),
          ("Dallas", "TX", "752"), ("Chicago", "IL", "606"), ("Minneapolis", "MN", "554"),
          ("Detroit", "MI", "482"), ("Columbus", "OH", "432"), ("Atlanta", "GA", "303"),
          ("Miami", "FL", "331"), ("Orlando", "FL", "328"), ("Charlotte", "NC", "282"),
          ("Nashville", "TN", "372"), ("Washington", "DC", "200"), ("Philadelphia", "PA", "191"),
          ("New York", "NY", "100"), ("Boston", "MA", "021"), ("Pittsburgh", "PA", "152"),
          ("Salt Lake City", "UT", "841"), ("Las Vegas", "NV", "891"), ("Kansas City", "MO", "641"),
          ("New Orleans", "LA", "701"), ("Baltimore", "MD", "212"), ("Milwaukee", "WI", "532")]
STREETS = """Main Street|Oak Avenue|Pine Lane|Maple Drive|Cedar Road|Elm Street|Lakeview Drive|
Hillcrest Road|River Road|Sunset Boulevard|Park Avenue|Broadway|Willow Lane|Highland Avenue|
Church Street|Mill Road|Spring Street|Chestnut Street|Forest Drive|Meadow Lane""".replace("\n", "").split("|")
CARD_BRANDS = ["visa", "mastercard", "amex", "discover"]
