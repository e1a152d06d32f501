"""Small helpers shared by the constructs."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

_RETENTION: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def retention(days: int) -> logs.RetentionDays:
    """CloudWatch Logs retention for `days` (only the values CloudWatch supports that we use)."""
    try:
        return _RETENTION[days]
    except KeyError:
        raise ValueError(f"unsupported log retention {days} days; use one of {sorted(_RETENTION)}") from None
