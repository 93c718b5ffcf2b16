"""SAGRIS pass aggregator: projected L2B granules of one pass → one seamless L2C scene per resolution."""

from petacube.sagris.aggregate.granules import (
    L2BGranule,
    PassKey,
    group_passes,
    parse_l2b_name,
    scan_l2b,
)
from petacube.sagris.aggregate.run import AggregateOptions, run_aggregate

__all__ = ["AggregateOptions", "L2BGranule", "PassKey", "group_passes", "parse_l2b_name", "run_aggregate", "scan_l2b"]
