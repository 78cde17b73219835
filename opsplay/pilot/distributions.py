"""The distribution functions of the tests, in plain Python: Student's t, the normal, and
chi-square with one degree of freedom (tails and two-sided quantiles).

`pilot compare` needs only these, and importing scipy.special (with numpy) costs more than
the rest of the command's start-up on a small export; computed here, the command imports
neither. They agree with scipy.special's `stdtr`, `stdtrit`, `ndtr`, `ndtri` and `chdtrc` to
about 1e-13 relative (tests/pilot/test_distributions.py checks a grid of them).

Student's t tail is the regularized incomplete beta function I_x(ν/2, 1/2), computed as in
DiDonato & Morris (1992, ACM TOMS 708): a continued fraction (Lentz) where it converges fast,
their asymptotic expansion BGRAT where ν is large and x = ν/(ν + t²) above 0.7, and the ratio
Γ(a + 1/2)/Γ(a) from its asymptotic series for large a (lgamma differences lose digits there).

Floor: statistics (pure). Imports only the standard library.
"""

from __future__ import annotations

import math

__all__ = [
    "chi2_1_sf",
    "normal_isf",
    "normal_ppf",
    "normal_sf",
    "t_isf",
    "t_sf",
]

_EPS = 2.220446049250313e-16
_SQRT_PI = math.sqrt(math.pi)
_LARGE_A = 15.0  # from here on: the asymptotic series of ln Γ(a+½)/Γ(a), and BGRAT


def normal_sf(x: float) -> float:
    """P(Z > x) for a standard normal Z."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def chi2_1_sf(x: float) -> float:
    """P(X > x) for chi-square with one degree of freedom (x ≥ 0)."""
    if x <= 0:
        return 1.0
    return math.erfc(math.sqrt(x / 2.0))


# Wichura's coefficients (AS 241, PPND16), highest power first: numerator, denominator.
_CENTRAL = (
    (
        2509.0809287301226727, 33430.575583588128105, 67265.770927008700853,
        45921.953931549871457, 13731.693765509461125, 1971.5909503065514427,
        133.14166789178437745, 3.387132872796366608,
    ),
    (
        5226.495278852545925, 28729.085735721942674, 39307.89580009271061,
        21213.794301586595867, 5394.1960214247511077, 687.1870074920579083,
        42.313330701600911252, 1.0,
    ),
)  # fmt: skip
_NEAR = (
    (
        7.7454501427834140764e-4, 0.0227238449892691845833, 0.24178072517745061177,
        1.27045825245236838258, 3.64784832476320460504, 5.7694972214606914055,
        4.6303378461565452959, 1.42343711074968357734,
    ),
    (
        1.05075007164441684324e-9, 5.475938084995344946e-4, 0.0151986665636164571966,
        0.14810397642748007459, 0.68976733498510000455, 1.6763848301838038494,
        2.05319162663775882187, 1.0,
    ),
)  # fmt: skip
_FAR = (
    (
        2.01033439929228813265e-7, 2.71155556874348757815e-5, 0.0012426609473880784386,
        0.026532189526576123093, 0.29656057182850489123, 1.7848265399172913358,
        5.4637849111641143699, 6.6579046435011037772,
    ),
    (
        2.04426310338993978564e-15, 1.4215117583164458887e-7, 1.8463183175100546818e-5,
        7.868691311456132591e-4, 0.0148753612908506148525, 0.13692988092273580531,
        0.59983220655588793769, 1.0,
    ),
)  # fmt: skip


def _rational(coefficients: tuple[tuple[float, ...], tuple[float, ...]], r: float) -> float:
    """numerator(r) / denominator(r), both by Horner's rule."""
    numerator, denominator = 0.0, 0.0
    for c in coefficients[0]:
        numerator = numerator * r + c
    for c in coefficients[1]:
        denominator = denominator * r + c
    return numerator / denominator


def normal_ppf(p: float) -> float:
    """The standard normal quantile of p (Wichura 1988, algorithm AS 241, PPND16)."""
    if not 0.0 < p < 1.0:
        return -math.inf if p == 0.0 else math.inf if p == 1.0 else math.nan
    q = p - 0.5
    if abs(q) <= 0.425:
        return q * _rational(_CENTRAL, 0.180625 - q * q)
    r = math.sqrt(-math.log(p if q < 0 else 1.0 - p))
    x = _rational(_NEAR, r - 1.6) if r <= 5.0 else _rational(_FAR, r - 5.0)
    return -x if q < 0 else x


def normal_isf(q: float) -> float:
    """The x with P(Z > x) = q."""
    return -normal_ppf(q)


# ln Γ(a+½)/Γ(a) = ½ ln a + Σ_k (2^(1−2k) − 2) B_2k / (2k (2k−1) a^(2k−1)), B the Bernoulli
# numbers; at a ≥ 15 the seven terms below leave less than 1e-17.
_HALF_RATIO_SERIES = (
    -1 / 8,
    1 / 192,
    -1 / 640,
    17 / 14336,
    -31 / 18432,
    691 / 180224,
    -5461 / 425984,
)


def _log_half_ratio(a: float) -> float:
    """ln(Γ(a + ½) / Γ(a)) for a > 0, accurate to about 1e-16 absolute."""
    if a < _LARGE_A:
        return math.lgamma(a + 0.5) - math.lgamma(a)
    inverse_square = 1.0 / (a * a)
    total = 0.0
    for coefficient in reversed(_HALF_RATIO_SERIES):
        total = total * inverse_square + coefficient
    return 0.5 * math.log(a) + total / a


def _log_beta_half(a: float) -> float:
    """ln B(a, ½) = ln Γ(a) + ln Γ(½) − ln Γ(a + ½)."""
    return math.log(_SQRT_PI) - _log_half_ratio(a)


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (modified Lentz), converging for x < (a+1)/(a+b+2)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (tiny if abs(d) < tiny else d)
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (tiny if abs(d) < tiny else d)
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (tiny if abs(d) < tiny else d)
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        delta = d * c
        h *= delta
        if abs(delta - 1.0) <= _EPS:
            break
    return h


def _lower_by_fraction(a: float, b: float, x: float, y: float, log_beta: float) -> float:
    """I_x(a, b) from the continued fraction, with the front factor x^a y^b / (a B(a, b))."""
    log_x = math.log1p(-y) if y < 0.5 else math.log(x)
    log_y = math.log1p(-x) if x < 0.5 else math.log(y)
    front = math.exp(a * log_x + b * log_y - log_beta)
    return front * _continued_fraction(a, b, x) / a


_ODD_FACTORIALS = tuple(float(math.factorial(2 * n + 1)) for n in range(32))


def _bgrat_half(a: float, x: float, y: float) -> float:
    """I_x(a, ½) for large a and x > 0.7: DiDonato & Morris's BGRAT asymptotic expansion
    (their equations 9 to 9.6), with b = ½ so that Q(b, u) = erfc(√u)."""
    b = 0.5
    bm1 = b - 1.0
    t = a + bm1 / 2.0
    lx = math.log1p(-y) if y < 0.35 else math.log(x)
    u = -t * lx
    h = math.sqrt(u) * math.exp(-u) / _SQRT_PI  # u^b e^(−u) / Γ(b)
    if h <= 1e-300:
        return 0.0
    prefix = h * math.exp(_log_half_ratio(a)) / math.sqrt(t)  # h Γ(a+b) / (Γ(a) t^b)
    p = [1.0]
    j = math.erfc(math.sqrt(u)) / h
    total = prefix * j
    lx2 = (lx / 2.0) ** 2
    lxp = 1.0
    t4 = 4.0 * t * t
    b2n = b
    for n in range(1, 30):
        value = 0.0
        for m in range(1, n):
            value += (m * b - n) * p[n - m] / _ODD_FACTORIALS[m]
        p.append(value / n + bm1 / _ODD_FACTORIALS[n])
        j = (b2n * (b2n + 1.0) * j + (u + b2n + 1.0) * lxp) / t4
        lxp *= lx2
        b2n += 2.0
        term = prefix * p[n] * j
        total += term
        if abs(term) <= _EPS * abs(total):
            break
    return total


def _incomplete_beta_half(a: float, x: float, y: float) -> float:
    """I_x(a, ½), the regularized incomplete beta function; y = 1 − x given exactly."""
    b = 0.5
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    if a >= _LARGE_A and x > 0.7:
        return _bgrat_half(a, x, y)
    log_beta = _log_beta_half(a)
    if x < (a + 1.0) / (a + b + 2.0):
        return _lower_by_fraction(a, b, x, y, log_beta)
    return 1.0 - _lower_by_fraction(b, a, y, x, log_beta)


def t_sf(t: float, dof: float) -> float:
    """P(T > t) for Student's t with `dof` > 0 degrees of freedom (any real)."""
    if math.isnan(t) or math.isnan(dof) or dof <= 0:
        return math.nan
    if t < 0:
        return 1.0 - t_sf(-t, dof)
    if math.isinf(dof):
        return normal_sf(t)
    if t == 0:
        return 0.5
    if math.isinf(t):
        return 0.0
    a = dof / 2.0
    t2 = t * t
    if math.isinf(dof + t2) or t2 > 1e300:  # far tail: the first term of the power series
        log_x = math.log(dof) - 2.0 * math.log(t)
        return 0.5 * math.exp(a * log_x - math.log(a) - _log_beta_half(a))
    total = dof + t2
    return 0.5 * _incomplete_beta_half(a, dof / total, t2 / total)


def _t_log_pdf(t: float, dof: float) -> float:
    """ln of Student's t density."""
    a = dof / 2.0
    return _log_half_ratio(a) - 0.5 * math.log(dof * math.pi) - (a + 0.5) * math.log1p(t * t / dof)


def t_isf(q: float, dof: float) -> float:
    """The t > 0 with P(T > t) = q, for 0 < q ≤ ½ (the two-sided quantile of 2q)."""
    if math.isnan(q) or math.isnan(dof) or dof <= 0 or not 0.0 < q <= 0.5:
        return math.nan
    z = normal_isf(q)
    if math.isinf(dof) or q == 0.5:
        return z if q < 0.5 else 0.0
    # Cornish–Fisher start, then Newton on ln P(T > t) inside a bracket kept by bisection
    v = dof
    z2 = z * z
    guess = z + z * (z2 + 1) / (4 * v) + z * ((5 * z2 + 16) * z2 + 3) / (96 * v * v)
    guess += z * (((3 * z2 + 19) * z2 + 17) * z2 - 15) / (384 * v**3)
    if not guess > 0 or not math.isfinite(guess):
        guess = z
    low, high = 0.0, math.inf
    target = math.log(q)
    t = guess
    for _ in range(200):
        tail = t_sf(t, dof)
        if tail > q:
            low = max(low, t)
        elif tail < q:
            high = min(high, t)
        else:
            return t
        step = (math.log(tail) - target) * tail / math.exp(_t_log_pdf(t, dof))
        following = t + step
        if not low < following < high:
            following = 2.0 * t if math.isinf(high) else (low + high) / 2.0
        if abs(following - t) <= 2.0 * _EPS * abs(t):
            return following
        t = following
    return t
