"""Banking tables: customers, their accounts, cards, saved payees, transactions, disputes."""

from apigen_mt.environments.schema import Schema, Table

SCHEMA = Schema(
    tables=(
        Table(
            "customers",
            {
                "customer_id": "text",
                "first_name": "text",
                "last_name": "text",
                "email": "text",
                "phone": "text",
                "date_of_birth": "text",
                "address": "text",
            },
            pk=("customer_id",),
        ),
        Table(
            "accounts",
            {
                "account_id": "text",
                "customer_id": "text",
                "kind": "text",  # checking | savings | credit
                "balance": "num",  # credit: negative when money is owed
                "overdraft_limit": "num",  # checking: how far below zero; credit: the limit
                "status": "text",  # open | closed
            },
            pk=("account_id",),
        ),
        Table(
            "cards",
            {
                "card_id": "text",
                "account_id": "text",
                "customer_id": "text",
                "last_four": "text",
                "status": "text",  # active | frozen
            },
            pk=("card_id",),
        ),
        Table(
            "payees",
            {
                "payee_id": "text",
                "customer_id": "text",
                "name": "text",
                "bank": "text",
                "account_number": "text",
                "added_at": "text",
            },
            pk=("payee_id",),
        ),
        Table(
            "transactions",
            {
                "transaction_id": "text",
                "account_id": "text",
                "posted_at": "text",
                "amount": "num",  # negative: money out
                "description": "text",
                "kind": "text",  # card | transfer | payment | deposit | fee
                "status": "text",  # posted | disputed
            },
            pk=("transaction_id",),
        ),
        Table(
            "disputes",
            {
                "dispute_id": "text",
                "transaction_id": "text",
                "customer_id": "text",
                "reason": "text",
                "opened_at": "text",
            },
            pk=("dispute_id",),
        ),
    )
)
