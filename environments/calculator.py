"""A safe arithmetic evaluator with τ-bench's `calculate` results and error texts.

τ-bench calls eval() on a character-filtered string, which still lets `9**9**9**9` hang a
process; we walk the AST instead and bound exponents.
"""

from __future__ import annotations

import ast
import operator

from apigen_mt.tools import ToolError

_ALLOWED_CHARS = set("0123456789+-*/(). ")
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_MAX_EXPONENT = 100
_MAX_LENGTH = 1000


def evaluate(expression: str) -> str:
    if not all(ch in _ALLOWED_CHARS for ch in expression):
        raise ToolError("invalid characters in expression")
    if len(expression) > _MAX_LENGTH:
        raise ToolError(f"expression longer than {_MAX_LENGTH} characters")
    try:
        value = _eval(ast.parse(expression, mode="eval").body)
        return str(round(float(value), 2))
    except ToolError:
        raise
    except (SyntaxError, ArithmeticError, ValueError, TypeError, RecursionError) as exc:
        raise ToolError(str(exc) or type(exc).__name__) from None


def _eval(node: ast.AST):
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > _MAX_EXPONENT:
            raise ToolError(f"exponent larger than {_MAX_EXPONENT}")
        if isinstance(node.op, ast.Pow):  # in floats: nested powers overflow, not hang
            return float(left) ** right
        return _BINARY[type(node.op)](left, right)
    raise ToolError("unsupported expression")
