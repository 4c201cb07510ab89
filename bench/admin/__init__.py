"""The parts of bench/admin_bench.py: the data it builds (data), the pages it asks
for (pages), the requests and the checks on their queries (timing), the report."""
