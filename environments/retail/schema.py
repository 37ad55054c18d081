"""Retail tables: τ-bench's users/orders/products JSON, normalised into rows.

Lists (order items, fulfilments, payment history, a user's orders) keep their order through
a position column, and `num` columns keep int vs float, so exporting back to τ-bench's JSON
shape is exact.
"""

from apigen_mt.environments.schema import Schema, Table

_ADDRESS = {c: "text" for c in ("address1", "address2", "city", "country", "state", "zip")}

SCHEMA = Schema(
    tables=(
        Table(
            "users",
            {
                "user_id": "text",
                "first_name": "text",
                "last_name": "text",
                "email": "text",
                **_ADDRESS,
            },
            pk=("user_id",),
        ),
        Table(
            "payment_methods",
            {
                "payment_method_id": "text",
                "user_id": "text",
                "position": "int",
                "source": "text",
                "brand": "text",
                "last_four": "text",
                "balance": "num",
            },
            pk=("payment_method_id",),
        ),
        Table("products", {"product_id": "text", "name": "text"}, pk=("product_id",)),
        Table(
            "variants",
            {
                "item_id": "text",
                "product_id": "text",
                "position": "int",
                "options": "json",
                "available": "bool",
                "price": "num",
            },
            pk=("item_id",),
        ),
        Table(
            "orders",
            {
                "order_id": "text",
                "user_id": "text",
                "user_position": "int",
                **_ADDRESS,
                "status": "text",
                "cancel_reason": "text",
                "exchange_items": "json",
                "exchange_new_items": "json",
                "exchange_payment_method_id": "text",
                "exchange_price_difference": "num",
                "return_items": "json",
                "return_payment_method_id": "text",
            },
            pk=("order_id",),
        ),
        Table(
            "order_items",
            {
                "order_id": "text",
                "position": "int",
                "item_id": "text",
                "product_id": "text",
                "name": "text",
                "price": "num",
                "options": "json",
            },
            pk=("order_id", "position"),
        ),
        Table(
            "fulfillments",
            {"order_id": "text", "position": "int", "tracking_ids": "json", "item_ids": "json"},
            pk=("order_id", "position"),
        ),
        Table(
            "payments",
            {
                "order_id": "text",
                "position": "int",
                "transaction_type": "text",
                "amount": "num",
                "payment_method_id": "text",
            },
            pk=("order_id", "position"),
        ),
    )
)

ADDRESS_FIELDS = tuple(_ADDRESS)
# Order keys τ-bench adds only once an action sets them (absent, not null, before).
OPTIONAL_ORDER_FIELDS = (
    "cancel_reason",
    "exchange_items",
    "exchange_new_items",
    "exchange_payment_method_id",
    "exchange_price_difference",
    "return_items",
    "return_payment_method_id",
)
