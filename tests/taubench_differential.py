"""Differential testing against τ-bench's own tool code (../shared/taubench/reference).

Calls are drawn from real ids in τ-bench's data and bent the way models bend them (extra
keys, numbers as strings, ints for floats and back, zero/negative/fractional amounts,
duplicated list entries, several payment methods, unknown ids, repeated writes). Each call
runs on our tools and on τ-bench's; `Differ.check` lists every disagreement.
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from apigen_mt.environments.taubench import export_state


def load_oracle(taubench_dir: Path, domain: str):
    """τ-bench's reference oracle, or None with the reason it is missing."""
    ref = taubench_dir / "reference"
    if not (ref / "oracle.py").is_file():
        return None, f"τ-bench reference code not found at {ref}"
    if str(ref) not in sys.path:
        sys.path.insert(0, str(ref))
    oracle = importlib.import_module("oracle")
    return oracle.Oracle(domain, taubench_dir / domain), ""


def _json_equal(a: str, b: str) -> bool:
    try:
        return json.loads(a) == json.loads(b)
    except ValueError:
        return a == b


class Differ:
    """Replays one call sequence on both sides and reports where they part ways."""

    def __init__(self, env, oracle):
        self.env, self.oracle = env, oracle
        self.seen: Counter[tuple[str, bool]] = Counter()  # (tool, τ-bench succeeded)
        self._dirty = True  # whether τ-bench's data may differ from its initial state
        self._initial = json.dumps(oracle.initial)  # the same JSON data, copied faster

    def check(self, calls: list[dict[str, Any]], *, hash_every_call: bool = False) -> list[str]:
        problems: list[str] = []
        # τ-bench's data is copied afresh (its reset's deep copy was most of a check's time;
        # a JSON round trip of the JSON it was read from is the same data, 3x faster) only
        # after a sequence that called a write tool; reads leave both sides as they were.
        if self._dirty:
            self.oracle.data = json.loads(self._initial)
        writes = set(self.env.domain.tools.write_names)
        self._dirty = any(c["name"] in writes for c in calls)
        with self.env.sandbox() as sandbox:
            for i, call in enumerate(calls):
                theirs, raised = self._theirs(call)
                ours = sandbox.call(call["name"], copy.deepcopy(call["arguments"]))
                self.seen[(call["name"], not theirs.startswith(("Error", "Unknown")))] += 1
                where = f"call {i} {call['name']}({json.dumps(call['arguments'])[:400]})"
                if theirs.startswith(("Error", "Unknown action")):
                    if ours.ok:
                        problems.append(f"{where}: τ-bench {theirs!r}, ours succeeded")
                    elif not raised and theirs != ours.observation:
                        # τ-bench's own message (not a Python exception's text): same words
                        problems.append(f"{where}: τ-bench {theirs!r}, ours {ours.observation!r}")
                elif not ours.ok:
                    problems.append(f"{where}: τ-bench {theirs[:200]!r}, ours {ours.observation!r}")
                elif not _json_equal(theirs, ours.observation):
                    problems.append(
                        f"{where}: observations differ: τ-bench {theirs[:300]!r}, "
                        f"ours {ours.observation[:300]!r}"
                    )
                last = i == len(calls) - 1
                if problems or hash_every_call or (last and self._dirty):
                    # the states as JSON (what τ-bench's hash is of, and as strict: 1 is
                    # not 1.0), compared whole; hashing both sides cost 10x as much
                    mine = json.dumps(export_state(self.env, sandbox), sort_keys=True)
                    if mine != json.dumps(self.oracle.data, sort_keys=True):
                        problems.append(f"after {where}: data differs from τ-bench's")
                if problems:
                    break
        return problems

    def _theirs(self, call: dict[str, Any]) -> tuple[str, bool]:
        """τ-bench's observation, as its env would give it, and whether a Python exception
        (rather than τ-bench's own message) produced it."""
        tool = self.oracle.tools.get(call["name"])
        if tool is None:
            return self.oracle.call(call["name"], call["arguments"]), False
        try:
            result = tool.invoke(data=self.oracle.data, **copy.deepcopy(call["arguments"]))
            return str(result), False  # send_certificate returns None once its ids run out
        except Exception as exc:
            return f"Error: {exc}", True


# --- perturbations -------------------------------------------------------------------------

EXTRA = {"note": "extra", "origin": "JFK", "destination": "LAX", "id": "x1"}


def bent_number(draw, value: Any) -> Any:
    """A number as a model might send it instead: same, float/int, string, 0, <0, fractional."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return value
    return draw(
        st.sampled_from(
            [
                value,
                value,
                value,
                float(value),
                int(value),
                str(value),
                0,
                -abs(value) - 1,
                value + 0.5,
            ]
        )
    )


def bend(draw, arguments: dict[str, Any]) -> dict[str, Any]:
    """Apply zero or more model-like perturbations to a call's arguments."""
    args = copy.deepcopy(arguments)
    kind = draw(
        st.sampled_from(
            ["none"] * 6  # most calls as the model meant them, the rest bent one way
            + ["extra_top", "extra_nested", "drop", "number", "number", "dup", "unknown"]
        )
    )
    if kind == "extra_top":
        args[draw(st.sampled_from(["note", "user_id", "confirm"]))] = "yes"
    elif kind == "extra_nested":
        lists = [k for k, v in args.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if lists:
            entry = draw(st.sampled_from(args[draw(st.sampled_from(lists))]))
            key = draw(st.sampled_from(sorted(EXTRA)))
            entry[key] = EXTRA[key]
    elif kind == "drop" and args:
        args.pop(draw(st.sampled_from(sorted(args))))
    elif kind == "number":
        for key, value in args.items():
            if isinstance(value, list):
                for entry in value:
                    if isinstance(entry, dict):
                        for k in entry:
                            entry[k] = bent_number(draw, entry[k])
            else:
                args[key] = bent_number(draw, value)
    elif kind == "dup":
        lists = [k for k, v in args.items() if isinstance(v, list) and v]
        if lists:
            key = draw(st.sampled_from(lists))
            args[key] = [*args[key], copy.deepcopy(args[key][-1])]
    elif kind == "unknown":
        ids = [k for k, v in args.items() if isinstance(v, str) and k.endswith("id")]
        if ids:
            args[draw(st.sampled_from(ids))] = "#W0000000_unknown"
    return args


# --- calls drawn from τ-bench's data --------------------------------------------------------


def load_data(taubench_dir: Path, domain: str) -> dict[str, dict[str, Any]]:
    files = (
        ("orders", "products", "users")
        if domain == "retail"
        else ("flights", "reservations", "users")
    )
    return {f: json.loads((taubench_dir / domain / f"{f}.json").read_text()) for f in files}


ADDRESS = {
    "address1": "1 Main St",
    "address2": "",
    "city": "Austin",
    "state": "TX",
    "country": "USA",
    "zip": "78701",
}


WANTS = {  # the order status a retail write needs to succeed
    "cancel_pending_order": "pending",
    "modify_pending_order_items": "pending",
    "modify_pending_order_payment": "pending",
    "modify_pending_order_address": "pending",
    "exchange_delivered_order_items": "delivered",
    "return_delivered_order_items": "delivered",
}


@st.composite
def retail_call(draw, data: dict, user_id: str) -> dict[str, Any]:
    user = data["users"][user_id]
    name = draw(
        st.sampled_from(
            [
                *WANTS,
                *WANTS,
                "modify_user_address",
                "find_user_id_by_email",
                "find_user_id_by_name_zip",
                "get_order_details",
                "get_product_details",
                "get_user_details",
                "list_all_product_types",
                "calculate",
            ]
        )
    )
    orders = [data["orders"][o] for o in user["orders"]]
    fitting = [o for o in orders if o["status"] == WANTS.get(name)]
    order = draw(st.sampled_from(fitting if fitting and draw(st.integers(0, 4)) else orders))
    paid_with = order["payment_history"][0]["payment_method_id"]
    others = sorted(set(user["payment_methods"]) - {paid_with}) or [paid_with]
    methods = [paid_with, *others]
    items = [i["item_id"] for i in order["items"]]
    picked = draw(st.lists(st.sampled_from(items), min_size=1, max_size=len(items)))

    def variant(item_id: str) -> str:
        product = next(i for i in order["items"] if i["item_id"] == item_id)["product_id"]
        variants = data["products"][product]["variants"]
        available = sorted(v for v in variants if variants[v]["available"] and v != item_id)
        return draw(
            st.sampled_from(
                available if available and draw(st.integers(0, 4)) else sorted(variants)
            )
        )

    args: dict[str, Any] = {
        "cancel_pending_order": lambda: {
            "order_id": order["order_id"],
            "reason": draw(st.sampled_from(["no longer needed", "ordered by mistake", "other"])),
        },
        "exchange_delivered_order_items": lambda: {
            "order_id": order["order_id"],
            "item_ids": picked,
            "new_item_ids": [variant(i) for i in picked],
            "payment_method_id": draw(st.sampled_from(methods)),
        },
        "return_delivered_order_items": lambda: {
            "order_id": order["order_id"],
            "item_ids": picked,
            "payment_method_id": draw(st.sampled_from(methods)),
        },
        "modify_pending_order_items": lambda: {
            "order_id": order["order_id"],
            "item_ids": picked,
            "new_item_ids": [variant(i) for i in picked],
            "payment_method_id": draw(st.sampled_from(methods)),
        },
        "modify_pending_order_payment": lambda: {
            "order_id": order["order_id"],
            "payment_method_id": draw(st.sampled_from(others)),
        },
        "modify_pending_order_address": lambda: {"order_id": order["order_id"], **ADDRESS},
        "modify_user_address": lambda: {"user_id": user_id, **ADDRESS},
        "find_user_id_by_email": lambda: {"email": user["email"]},
        "find_user_id_by_name_zip": lambda: {
            **user["name"],
            "zip": user["address"]["zip"],
        },
        "get_order_details": lambda: {"order_id": order["order_id"]},
        "get_product_details": lambda: {"product_id": order["items"][0]["product_id"]},
        "get_user_details": lambda: {"user_id": user_id},
        "list_all_product_types": dict,
        "calculate": lambda: {"expression": draw(st.sampled_from(["2 + 2", "10 / 4", "1 / 0"]))},
    }[name]()
    return {"name": name, "arguments": bend(draw, args)}


def _price(data: dict, flight: dict, cabin: str) -> int | float:
    day = data["flights"][flight["flight_number"]]["dates"].get(flight["date"], {})
    return day.get("prices", {}).get(cabin, 100)


def _available_flight(draw, data: dict, origin: str | None = None) -> dict[str, Any]:
    numbers = sorted(
        n for n, f in data["flights"].items() if origin is None or f["origin"] == origin
    ) or sorted(data["flights"])
    number = draw(st.sampled_from(numbers))
    dates = sorted(data["flights"][number]["dates"])
    available = [d for d in dates if data["flights"][number]["dates"][d]["status"] == "available"]
    return {"flight_number": number, "date": draw(st.sampled_from(available or dates))}


@st.composite
def airline_call(draw, data: dict, user_id: str) -> dict[str, Any]:
    user = data["users"][user_id]
    reservation = data["reservations"][draw(st.sampled_from(user["reservations"]))]
    methods = sorted(user["payment_methods"])
    # Changes cannot be paid with a certificate: mostly draw methods that can pay.
    payable = [m for m in methods if not m.startswith("certificate")] or methods
    cabin = draw(st.sampled_from(["basic_economy", "economy", "business"]))
    name = draw(
        st.sampled_from(
            [  # writes first: hypothesis draws early entries more often
                "update_reservation_flights",
                "book_reservation",
                "cancel_reservation",
                "update_reservation_baggages",
                "update_reservation_passengers",
                "send_certificate",
                "update_reservation_flights",
                "book_reservation",
                "get_reservation_details",
                "get_user_details",
                "list_all_airports",
                "search_direct_flight",
                "search_onestop_flight",
            ]
        )
    )
    if name == "book_reservation":
        first = _available_flight(draw, data)
        flights = [first]
        if draw(st.booleans()):
            dest = data["flights"][first["flight_number"]]["destination"]
            flights.append(_available_flight(draw, data, origin=dest))
        passengers = draw(
            st.lists(
                st.sampled_from(user["saved_passengers"] or [{**user["name"], "dob": user["dob"]}]),
                min_size=1,
                max_size=3,
            )
        )
        bags = draw(st.integers(0, 3))
        insurance = draw(st.sampled_from(["yes", "no"]))
        total = sum(_price(data, f, cabin) for f in flights) * len(passengers)
        total += 50 * bags + (30 * len(passengers) if insurance == "yes" else 0)
        payers = draw(st.lists(st.sampled_from(methods), min_size=1, max_size=3))
        shares = [0] * (len(payers) - 1)
        if len(payers) > 1:  # some of it (or nothing) on the first methods, the rest on the last
            shares = [draw(st.sampled_from([0, 50, 100, total // 2])) for _ in payers[:-1]]
        payments = [
            {"payment_id": p, "amount": a}
            for p, a in zip(payers, [*shares, total - sum(shares)], strict=True)
        ]
        args = {
            "user_id": user_id,
            "origin": data["flights"][flights[0]["flight_number"]]["origin"],
            "destination": data["flights"][flights[-1]["flight_number"]]["destination"],
            "flight_type": draw(st.sampled_from(["one_way", "round_trip"])),
            "cabin": cabin,
            "flights": flights,
            "passengers": passengers,
            "payment_methods": payments,
            "total_baggages": bags + draw(st.integers(0, 2)),
            "nonfree_baggages": bags,
            "insurance": insurance,
        }
    elif name == "update_reservation_flights":
        flights = [
            {"flight_number": f["flight_number"], "date": f["date"]} for f in reservation["flights"]
        ]
        if draw(st.booleans()):
            i = draw(st.integers(0, len(flights) - 1))
            origin = data["flights"][flights[i]["flight_number"]]["origin"]
            flights[i] = _available_flight(draw, data, origin=origin)
        args = {
            "reservation_id": reservation["reservation_id"],
            "cabin": draw(st.sampled_from([reservation["cabin"], cabin])),
            "flights": flights,
            "payment_id": draw(st.sampled_from(payable if draw(st.integers(0, 3)) else methods)),
        }
    else:
        flight = data["flights"][_available_flight(draw, data)["flight_number"]]
        rid = reservation["reservation_id"]
        args = {
            "cancel_reservation": lambda: {"reservation_id": rid},
            "get_reservation_details": lambda: {"reservation_id": rid},
            "get_user_details": lambda: {"user_id": user_id},
            "list_all_airports": dict,
            "search_direct_flight": lambda: {
                "origin": flight["origin"],
                "destination": flight["destination"],
                "date": draw(st.sampled_from(sorted(flight["dates"]))),
            },
            "search_onestop_flight": lambda: {
                "origin": flight["origin"],
                "destination": draw(st.sampled_from(["JFK", "LAX", "SFO", "ORD", "SEA"])),
                "date": draw(st.sampled_from(sorted(flight["dates"]))),
            },
            "send_certificate": lambda: {
                "user_id": user_id,
                "amount": draw(st.sampled_from([50, 100, 150.5])),
            },
            "update_reservation_baggages": lambda: {
                "reservation_id": rid,
                "total_baggages": draw(st.integers(0, 5)),
                "nonfree_baggages": draw(st.integers(0, 3)),
                "payment_id": draw(
                    st.sampled_from(payable if draw(st.integers(0, 3)) else methods)
                ),
            },
            "update_reservation_passengers": lambda: {
                "reservation_id": rid,
                "passengers": [
                    {**p, "first_name": p["first_name"] + "x"} for p in reservation["passengers"]
                ],
            },
        }[name]()
    return {"name": name, "arguments": bend(draw, args)}


CALL_STRATEGIES = {"retail": retail_call, "airline": airline_call}


@st.composite
def call_sequence(draw, domain: str, data: dict, users: list[str]) -> list[dict[str, Any]]:
    """1–8 calls about one user (so writes meet the same records again)."""
    user_id = draw(st.sampled_from(users))
    n = draw(st.integers(1, 8))
    return [draw(CALL_STRATEGIES[domain](data, user_id)) for _ in range(n)]


def users_with_records(data: dict, domain: str) -> list[str]:
    """Users whose records let writes succeed: retail, with a pending and a delivered order."""
    if domain == "airline":
        return sorted(u for u, rec in data["users"].items() if rec.get("reservations"))
    statuses = {
        u: {data["orders"][o]["status"] for o in rec["orders"]} for u, rec in data["users"].items()
    }
    return sorted(u for u, s in statuses.items() if {"pending", "delivered"} <= s)
