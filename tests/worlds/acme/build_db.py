"""Builds app.sqlite for the Acme Outfitters world: a database shaped like real ones.

Mixed-case table and column names, integer ids with AUTOINCREMENT, REAL amounts, NULLs,
a composite primary key, a table without a declared key, and non-ASCII text. Plain sqlite3.
"""

import random
import sqlite3
import sys

SCHEMA = """
CREATE TABLE Customer (
    CustomerId INTEGER PRIMARY KEY AUTOINCREMENT,
    FullName TEXT NOT NULL,
    Email TEXT UNIQUE NOT NULL,
    Phone TEXT,
    City TEXT,
    LoyaltyPoints INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE Product (
    Sku TEXT PRIMARY KEY,
    Name TEXT NOT NULL,
    UnitPrice REAL NOT NULL,
    InStock INTEGER NOT NULL
);
CREATE TABLE "Order" (
    OrderId INTEGER PRIMARY KEY AUTOINCREMENT,
    CustomerId INTEGER NOT NULL REFERENCES Customer(CustomerId),
    Status TEXT NOT NULL,
    PlacedAt TEXT NOT NULL,
    ShippingAddress TEXT,
    Total REAL NOT NULL
);
CREATE TABLE OrderLine (
    OrderId INTEGER NOT NULL REFERENCES "Order"(OrderId),
    LineNo INTEGER NOT NULL,
    Sku TEXT NOT NULL REFERENCES Product(Sku),
    Quantity INTEGER NOT NULL,
    UnitPrice REAL NOT NULL,
    PRIMARY KEY (OrderId, LineNo)
);
CREATE TABLE Refund (
    RefundId INTEGER PRIMARY KEY AUTOINCREMENT,
    OrderId INTEGER NOT NULL REFERENCES "Order"(OrderId),
    LineNo INTEGER NOT NULL,
    Amount REAL NOT NULL,
    Reason TEXT NOT NULL
);
CREATE TABLE AuditLog (At TEXT, Actor TEXT, Action TEXT);
"""
PEOPLE = [
    ("José Müller", "jose.muller@example.com", None, "Zürich"),
    ("山田 太郎", "taro.yamada@example.jp", "+81 3 1234 5678", "東京"),
    ("Ava Okafor", "ava.okafor@example.com", "+1 555 0101", "Lagos"),
    ("Björn Ström", "bjorn@example.se", None, "Göteborg"),
    ("Priya Nair", "priya.nair@example.in", "+91 98 7654 3210", "Kochi"),
    ("Lucía Fernández", "lucia.f@example.es", None, None),
    ("Tom O'Brien", "tom.obrien@example.ie", "+353 1 555 0199", "Cork"),
    ("Chloé Dubois", "chloe.dubois@example.fr", "+33 1 55 55 01 02", "Lyon"),
]
PRODUCTS = [
    ("TENT-2P", "Two-person tent", 249.0, 12),
    ("TENT-4P", "Four-person tent", 389.5, 4),
    ("BAG-0C", "Sleeping bag 0°C", 129.99, 30),
    ("BAG-M10", "Sleeping bag −10°C", 189.99, 0),
    ("STOVE-G", "Gas stove", 59.95, 40),
    ("LAMP-H", "Head lamp", 24.5, 100),
    ("BOOT-42", "Hiking boots, size 42", 149.0, 7),
    ("POLE-C", "Carbon trekking poles", 99.0, 15),
]
STATUSES = ["Pending", "Pending", "Shipped", "Delivered", "Delivered", "Cancelled"]


def build(path: str) -> None:
    rng = random.Random(7)
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    for name, email, phone, city in PEOPLE:
        conn.execute(
            "INSERT INTO Customer (FullName, Email, Phone, City, LoyaltyPoints) VALUES (?,?,?,?,?)",
            (name, email, phone, city, rng.randint(0, 900)),
        )
    conn.executemany("INSERT INTO Product VALUES (?,?,?,?)", PRODUCTS)
    for customer_id in range(1, len(PEOPLE) + 1):
        for _ in range(rng.randint(1, 3)):
            status = rng.choice(STATUSES)
            lines = rng.sample(PRODUCTS, rng.randint(1, 3))
            quantities = [rng.randint(1, 2) for _ in lines]
            total = round(sum(p[2] * q for p, q in zip(lines, quantities)), 2)
            address = (
                None
                if status == "Delivered" and rng.random() < 0.3
                else (
                    f"{rng.randint(1, 99)} Rue de l'Été, {PEOPLE[customer_id - 1][3] or 'Madrid'}"
                )
            )
            cur = conn.execute(
                'INSERT INTO "Order" (CustomerId, Status, PlacedAt, ShippingAddress, Total) '
                "VALUES (?,?,?,?,?)",
                (
                    customer_id,
                    status,
                    f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                    address,
                    total,
                ),
            )
            for line_no, (product, qty) in enumerate(zip(lines, quantities), 1):
                conn.execute(
                    "INSERT INTO OrderLine VALUES (?,?,?,?,?)",
                    (cur.lastrowid, line_no, product[0], qty, product[2]),
                )
    conn.execute("INSERT INTO AuditLog VALUES ('2026-01-01', 'system', 'opened')")
    conn.commit()
    conn.close()


if __name__ == "__main__":
    build(sys.argv[1] if len(sys.argv) > 1 else "app.sqlite")
