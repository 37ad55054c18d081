"""τ-bench's retail JSON (users, orders, products) as a plain SQLite file, and back.

Each record is kept whole as a JSON document, with the columns a support system would
index beside it (email, name, zip, status) and a foreign key from orders to users.
"""

import json
import sqlite3
import sys
from pathlib import Path

SCHEMA = """
CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    zip TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(user_id),
    status TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE products (
    product_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX users_email ON users(email);
"""


def convert(data_dir: Path, out: Path) -> None:
    data = {
        n: json.loads((Path(data_dir) / f"{n}.json").read_text())
        for n in ("users", "orders", "products")
    }
    conn = sqlite3.connect(out)
    conn.executescript(SCHEMA)
    for user_id, user in data["users"].items():
        conn.execute(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)",
            (
                user_id,
                user["email"],
                user["name"]["first_name"],
                user["name"]["last_name"],
                user["address"]["zip"],
                json.dumps(user),
            ),
        )
    for order_id, order in data["orders"].items():
        conn.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?)",
            (order_id, order["user_id"], order["status"], json.dumps(order)),
        )
    for product_id, product in data["products"].items():
        conn.execute(
            "INSERT INTO products VALUES (?, ?, ?)",
            (product_id, product["name"], json.dumps(product)),
        )
    conn.commit()
    conn.close()


def export(conn: sqlite3.Connection) -> dict:
    """The database in τ-bench's shape: {users: {...}, orders: {...}, products: {...}}."""
    return {
        table: {
            key: json.loads(doc)
            for key, doc in conn.execute(f"SELECT {key_col}, doc FROM {table} ORDER BY rowid")
        }
        for table, key_col in (
            ("users", "user_id"),
            ("orders", "order_id"),
            ("products", "product_id"),
        )
    }


if __name__ == "__main__":
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
