"""Plain-text mathematics: the LaTeX a record carries, written with Unicode symbols for a terminal,
a pytest summary or a plot label (``f_{0} - f_{1} \\geq G \\eta`` reads ``f₀ − f₁ ≥ Gη``).

Records store each relation's LaTeX (derived from the spec's SymPy relation); renderers that cannot
typeset LaTeX use this instead of showing it raw.  It covers what SymPy's LaTeX printer emits for the
catalogue's relations -- fractions, roots, sub- and superscripts, Greek letters, norms, absolute
values, relations -- and leaves anything else as readable text.  Nothing here imports the rest of
the project.
"""

from __future__ import annotations

import re

__all__ = ["latex_to_unicode", "split_relation", "symbol_text", "GREEK"]

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "lam": "λ", "mu": "μ", "nu": "ν", "xi": "ξ",
    "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Sigma": "Σ", "Phi": "Φ",
    "Psi": "Ψ", "Omega": "Ω",
}
_SYMBOLS = {
    "geq": "≥", "ge": "≥", "leq": "≤", "le": "≤", "neq": "≠", "ne": "≠", "cdot": "·", "times": "×",
    "infty": "∞", "approx": "≈", "pm": "±", "sum": "Σ", "prod": "Π", "partial": "∂", "nabla": "∇",
    "in": "∈", "to": "→", "ldots": "…", "cdots": "⋯", "|": "‖", "{": "{", "}": "}", "%": "%",
}
_WORDS = {"log", "ln", "exp", "min", "max", "sin", "cos", "tanh", "tan", "sinh", "cosh", "det", "tr", "sup", "inf"}
_SUB = str.maketrans("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUP = str.maketrans("0123456789+-=()in", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿ")
_SUB_OK = set("0123456789+-=()aehijklmnoprstuvx")
_SUP_OK = set("0123456789+-=()in")
_RELATIONS = ("≥", "≤", "=", "<", ">", "≠")


def _group(tex: str, i: int) -> tuple[str, int]:
    """The brace group (or single character / command) starting at ``tex[i]`` and the index after it."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i >= len(tex):
        return "", i
    if tex[i] == "{":
        depth = 0
        for j in range(i, len(tex)):
            depth += {"{": 1, "}": -1}.get(tex[j], 0)
            if depth == 0:
                return tex[i + 1 : j], j + 1
        return tex[i + 1 :], len(tex)
    if tex[i] == "\\":
        m = re.match(r"\\([A-Za-z]+|.)", tex[i:])
        assert m is not None
        return m.group(0), i + len(m.group(0))
    return tex[i], i + 1


def _atomic(s: str) -> bool:
    return bool(re.fullmatch(r"[\w.·₀-₉⁰-⁹ₐ-ₜ√‖|]+|\(.*\)", s)) and not re.search(r"[ +−\-/]", s)


def _script(body: str, kind: str) -> str:
    plain = body.replace(" ", "")
    table, ok = (_SUB, _SUB_OK) if kind == "_" else (_SUP, _SUP_OK)
    # Only numbers and single letters as Unicode scripts: "gramₑᵣᵣ" reads worse than "gram_err".
    if plain and set(plain) <= ok and (plain.isdigit() or len(plain) == 1):
        return plain.translate(table)
    if kind == "_" and re.fullmatch(r"[\w ]+", body):
        return "_" + body.strip().replace(" ", "_")
    tidy = _tidy(body)
    return f"{kind}{tidy}" if _atomic(tidy) else f"{kind}({tidy})"


def _convert(tex: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(tex):
        c = tex[i]
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", tex[i:])
            assert m is not None
            name = m.group(1)
            i += len(m.group(0))
            if name in ("frac", "dfrac", "tfrac"):
                a, i = _group(tex, i)
                b, i = _group(tex, i)
                na, nb = _tidy(_convert(a)), _tidy(_convert(b))
                out.append(f"{na if _atomic(na) else f'({na})'}/{nb if _atomic(nb) else f'({nb})'}")
            elif name == "sqrt":
                a, i = _group(tex, i)
                na = _tidy(_convert(a))
                out.append("√" + (na if len(na) == 1 or na.isdigit() else f"({na})"))
            elif name in ("left", "right", "big", "Big", "bigl", "bigr"):
                m2 = re.match(r"\\\||\\\{|\\\}|\\langle|\\rangle|[.()\[\]|]", tex[i:])
                if m2:
                    i += len(m2.group(0))
                    out.append({"\\|": "‖", ".": "", "\\{": "{", "\\}": "}", "\\langle": "⟨",
                                "\\rangle": "⟩"}.get(m2.group(0), m2.group(0)))
            elif name in ("operatorname", "mathrm", "text", "mathbf", "mathit", "mathcal", "boldsymbol"):
                a, i = _group(tex, i)
                out.append(_convert(a))
            elif name in GREEK:
                out.append(GREEK[name])
            elif name in _SYMBOLS:
                out.append(f" {_SYMBOLS[name]} " if _SYMBOLS[name] in _RELATIONS else _SYMBOLS[name])
            elif name in (",", ";", " ", "!", "quad", "qquad"):
                out.append(" ")
            else:
                out.append(name if name in _WORDS else name + " ")
        elif c in "_^":
            body, i = _group(tex, i + 1)
            out.append(_script(_convert(body), c))
        elif c == "{":
            body, i = _group(tex, i)
            out.append(_convert(body))
        elif c == "}":
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


_TOKEN = r"[\w.₀-₉⁰-⁹ₐ-ₜ]+[)‖|]?"


def _tidy(s: str) -> str:
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"(^|[(\s])-\s*", lambda m: m.group(1) + "−", s)  # unary and binary minus
    s = s.replace(" −", " − ").replace("  ", " ")

    # Implicit products: single letters join (ηλ, Lη); longer names are separated by a dot.
    def join(m: re.Match[str]) -> str:
        left, right = m.group(1), m.group(2)
        if left in _WORDS:
            return f"{left} {right}"
        core_l = re.sub(r"[₀-₉⁰-⁹ₐ-ₜ)‖|]", "", left)
        core_r = re.sub(r"[₀-₉⁰-⁹ₐ-ₜ(‖|√]", "", right)
        return f"{left}{right}" if len(core_l) <= 1 and len(core_r) <= 1 else f"{left}·{right}"

    for _ in range(3):
        s = re.sub(r"(" + _TOKEN + r") (?=[\w(√‖|])(" + r"[\w(√‖|][\w.₀-₉⁰-⁹ₐ-ₜ]*" + r")", join, s)
    s = re.sub(r"\s*([≥≤=<>≠+])\s*", r" \1 ", s)
    s = re.sub(r"\s+", " ", s).strip()
    return s.replace("− ", "−").replace(" −", " − ").replace("(−", "(−").lstrip()


def latex_to_unicode(tex: str) -> str:
    """``tex`` (as SymPy's LaTeX printer writes it) as one line of Unicode mathematics."""
    out = _tidy(_convert(tex))
    return re.sub(r"^− ", "−", out)


def split_relation(tex: str) -> tuple[str, str, str] | None:
    """A relation's LaTeX split at its top-level relation sign: ``(lhs, sign, rhs)`` in Unicode
    (None when there is no single relation sign)."""
    text = latex_to_unicode(tex)
    parts = re.split(r" (≥|≤|=|<|>|≠) ", text)
    if len(parts) != 3:
        return None
    return parts[0], parts[1], parts[2]


def symbol_text(name: str) -> str:
    """An ASCII symbol name in paper notation: ``eta`` -> ``η``, ``eta_lam`` -> ``ηλ``, ``f_t`` ->
    ``fₜ``, ``lmin_A`` -> ``lmin_A``; names that are not notation stay as they are."""
    parts = name.split("_")
    if all(p in GREEK for p in parts):
        return "".join(GREEK[p] for p in parts)
    head = GREEK.get(parts[0], parts[0])
    if len(parts) == 2 and parts[1] and set(parts[1]) <= _SUB_OK and (parts[1].isdigit() or len(parts[1]) == 1):
        return head + parts[1].translate(_SUB)
    if len(parts) >= 2:
        return head + "_" + "_".join(GREEK.get(p, p) for p in parts[1:])
    return head
