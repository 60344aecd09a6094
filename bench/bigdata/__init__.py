"""A synthetic company at scale for the benchmarks (issue 7): `python -m bench.bigdata --help`.

200 estates, 200,000 units, 250,000 owners, three years of monthly billing (~7 million
charges), ~5 million payments with allocations and gapless receipts, ~600,000 work orders
with vouchers and callbacks, complaints and stock, at --scale 1.0; proportionally less below.
See bench/bigdata.md.
"""
