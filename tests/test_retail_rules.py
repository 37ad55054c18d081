"""Retail rules name the policy a broken action sequence violates (generated data)."""

import pytest

from apigen_mt.environments import check_policy


def _one(env, sql, *params):
    row = env.master.execute(sql, params).fetchone()
    assert row is not None, sql
    return row


def _policy(env, user_id, actions, blueprint=True):
    with env.sandbox() as sandbox:
        return check_policy(
            sandbox.executor, actions, env.domain.rules, user_id=user_id, blueprint=blueprint
        )


def _order(env, status, extra=""):
    return _one(
        env,
        f"SELECT o.order_id, o.user_id FROM orders o {extra} WHERE o.status = ? "
        "ORDER BY o.order_id LIMIT 1",
        status,
    )


def _method(env, user_id, source=None, exclude=()):
    rows = env.master.execute(
        "SELECT payment_method_id, source, balance FROM payment_methods "
        "WHERE user_id = ? ORDER BY payment_method_id",
        [user_id],
    ).fetchall()
    return next(r for r in rows if (source is None or r[1] == source) and r[0] not in exclude)


def _swap(env, order_id, same_product=True):
    """An item of the order and another available variant (of the same product or not)."""
    item, product = _one(
        env,
        "SELECT item_id, product_id FROM order_items WHERE order_id = ? ORDER BY position LIMIT 1",
        order_id,
    )
    op = "=" if same_product else "!="
    new = _one(
        env,
        f"SELECT item_id FROM variants WHERE product_id {op} ? AND item_id != ? "
        "AND available = 1 ORDER BY item_id LIMIT 1",
        product,
        item,
    )[0]
    return item, new


def test_valid_sequences_pass(retail_env):
    order, user = _order(retail_env, "pending")
    report = _policy(
        retail_env,
        user,
        [
            {"name": "get_order_details", "arguments": {"order_id": order}},
            {
                "name": "cancel_pending_order",
                "arguments": {"order_id": order, "reason": "ordered by mistake"},
            },
        ],
    )
    assert report.ok, report.violations
    delivered, owner = _order(retail_env, "delivered")
    item, _ = _swap(retail_env, delivered)
    original = _one(
        retail_env,
        "SELECT payment_method_id FROM payments WHERE order_id = ? AND position = 0",
        delivered,
    )[0]
    report = _policy(
        retail_env,
        owner,
        [
            {
                "name": "return_delivered_order_items",
                "arguments": {
                    "order_id": delivered,
                    "item_ids": [item],
                    "payment_method_id": original,
                },
            }
        ],
    )
    assert report.ok, report.violations


def _violations(env, user, actions, blueprint=True):
    report = _policy(env, user, actions, blueprint)
    assert not report.ok
    return report.rule_names, report.violations


def test_cancel_a_delivered_order(retail_env):
    order, user = _order(retail_env, "delivered")
    names, violations = _violations(
        retail_env,
        user,
        [
            {
                "name": "cancel_pending_order",
                "arguments": {"order_id": order, "reason": "no longer needed"},
            }
        ],
    )
    assert names == ["cancel_only_pending"]
    assert "'delivered'" in violations[0].message and violations[0].action_index == 0


def test_exchange_a_pending_order(retail_env):
    order, user = _order(retail_env, "pending")
    item, new = _swap(retail_env, order)
    names, _ = _violations(
        retail_env,
        user,
        [
            {
                "name": "exchange_delivered_order_items",
                "arguments": {
                    "order_id": order,
                    "item_ids": [item],
                    "new_item_ids": [new],
                    "payment_method_id": _method(retail_env, user)[0],
                },
            }
        ],
    )
    assert names == ["exchange_or_return_only_delivered"]


def test_pay_with_another_customers_payment_method(retail_env):
    order, user = _order(retail_env, "pending")
    foreign = _one(
        retail_env,
        "SELECT payment_method_id FROM payment_methods WHERE user_id != ? "
        "AND source = 'credit_card' LIMIT 1",
        user,
    )[0]
    names, _ = _violations(
        retail_env,
        user,
        [
            {
                "name": "modify_pending_order_payment",
                "arguments": {"order_id": order, "payment_method_id": foreign},
            }
        ],
    )
    assert "payment_method_of_customer" in names


def test_refund_to_a_method_that_is_neither_original_nor_gift_card(retail_env):
    order, user = _order(
        retail_env,
        "delivered",
        "JOIN payments p ON p.order_id = o.order_id AND p.position = 0 "
        "AND p.payment_method_id LIKE 'gift_card%' JOIN payment_methods m "
        "ON m.user_id = o.user_id AND m.source != 'gift_card'",
    )
    other = _one(
        retail_env,
        "SELECT payment_method_id FROM payment_methods WHERE user_id = ? AND source != 'gift_card'",
        user,
    )[0]
    item, _ = _swap(retail_env, order)
    names, _ = _violations(
        retail_env,
        user,
        [
            {
                "name": "return_delivered_order_items",
                "arguments": {"order_id": order, "item_ids": [item], "payment_method_id": other},
            }
        ],
    )
    assert names == ["refund_to_original_or_gift_card"]


def test_items_modified_twice(retail_env):
    order, user = _order(
        retail_env,
        "pending",
        "JOIN payment_methods m ON m.user_id = o.user_id AND m.source != 'gift_card'",
    )
    method = next(
        r
        for r in retail_env.master.execute(
            "SELECT payment_method_id FROM payment_methods "
            "WHERE user_id = ? AND source != 'gift_card'",
            [user],
        )
    )[0]
    item, new = _swap(retail_env, order)
    call = {
        "name": "modify_pending_order_items",
        "arguments": {
            "order_id": order,
            "item_ids": [item],
            "new_item_ids": [new],
            "payment_method_id": method,
        },
    }
    first = _policy(retail_env, user, [call])
    assert first.ok, first.violations
    back = {**call, "arguments": {**call["arguments"], "item_ids": [new], "new_item_ids": [item]}}
    names, violations = _violations(retail_env, user, [call, back])
    assert names == ["modify_only_pending"]
    assert "already modified" in violations[0].message and violations[0].action_index == 1


def test_exchange_for_another_product(retail_env):
    order, user = _order(retail_env, "delivered")
    item, other_product_item = _swap(retail_env, order, same_product=False)
    names, _ = _violations(
        retail_env,
        user,
        [
            {
                "name": "exchange_delivered_order_items",
                "arguments": {
                    "order_id": order,
                    "item_ids": [item],
                    "new_item_ids": [other_product_item],
                    "payment_method_id": _method(retail_env, user)[0],
                },
            }
        ],
    )
    assert "same_product_new_item" in names


def test_gift_card_too_small_for_the_order(retail_env):
    order, user = _order(
        retail_env,
        "pending",
        "JOIN payments p ON p.order_id = o.order_id JOIN payment_methods m "
        "ON m.user_id = o.user_id AND m.source = 'gift_card' "
        "AND m.balance < p.amount AND m.payment_method_id != p.payment_method_id",
    )
    card = next(
        r
        for r in retail_env.master.execute(
            "SELECT m.payment_method_id FROM payment_methods m JOIN payments p ON p.order_id = ? "
            "WHERE m.user_id = ? AND m.source = 'gift_card' AND m.balance < p.amount "
            "AND m.payment_method_id != p.payment_method_id",
            [order, user],
        )
    )[0]
    names, _ = _violations(
        retail_env,
        user,
        [
            {
                "name": "modify_pending_order_payment",
                "arguments": {"order_id": order, "payment_method_id": card},
            }
        ],
    )
    assert names == ["gift_card_covers_amount"]


def test_paying_again_with_the_current_payment_method(retail_env):
    order, user = _order(retail_env, "pending")
    current = _one(
        retail_env,
        "SELECT payment_method_id FROM payments WHERE order_id = ? AND position = 0",
        order,
    )[0]
    names, _ = _violations(
        retail_env,
        user,
        [
            {
                "name": "modify_pending_order_payment",
                "arguments": {"order_id": order, "payment_method_id": current},
            }
        ],
    )
    assert names == ["new_payment_method_differs"]


def test_acting_on_another_customers_order(retail_env):
    order, owner = _order(retail_env, "pending")
    stranger = _one(retail_env, "SELECT user_id FROM users WHERE user_id != ? LIMIT 1", owner)[0]
    names, violations = _violations(
        retail_env, stranger, [{"name": "get_order_details", "arguments": {"order_id": order}}]
    )
    assert names == ["one_customer_only"] and stranger in violations[0].message


def test_return_of_an_item_not_in_the_order(retail_env):
    order, user = _order(retail_env, "delivered")
    original = _one(
        retail_env,
        "SELECT payment_method_id FROM payments WHERE order_id = ? AND position = 0",
        order,
    )[0]
    names, _ = _violations(
        retail_env,
        user,
        [
            {
                "name": "return_delivered_order_items",
                "arguments": {
                    "order_id": order,
                    "item_ids": ["0000000000"],
                    "payment_method_id": original,
                },
            }
        ],
    )
    assert names == ["items_in_order"]


def test_cancel_reason_outside_the_policy(retail_env):
    order, user = _order(retail_env, "pending")
    names, _ = _violations(
        retail_env,
        user,
        [
            {
                "name": "cancel_pending_order",
                "arguments": {"order_id": order, "reason": "changed my mind"},
            }
        ],
    )
    assert names == ["cancel_reason_allowed"]


@pytest.mark.parametrize("identify", [False, True])
def test_dialogues_must_identify_the_customer_first(retail_env, identify):
    order, user = _order(retail_env, "pending")
    email = _one(retail_env, "SELECT email FROM users WHERE user_id = ?", user)[0]
    actions = [{"name": "get_order_details", "arguments": {"order_id": order}}]
    if identify:
        actions.insert(0, {"name": "find_user_id_by_email", "arguments": {"email": email.upper()}})
    report = _policy(retail_env, user, actions, blueprint=False)
    assert report.ok == identify
    if not identify:
        assert report.rule_names == ["authenticate_first"]
    # Blueprints leave the identification turns to the dialogue.
    assert _policy(retail_env, user, actions[-1:], blueprint=True).ok


def test_every_rule_has_a_test_that_names_it():
    import inspect
    import sys

    from apigen_mt.environments import get_domain

    source = inspect.getsource(sys.modules[__name__])
    untested = [n for n in get_domain("retail").rules.names if f'"{n}"' not in source]
    assert untested == []
