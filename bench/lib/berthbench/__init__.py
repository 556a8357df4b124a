"""berth's benchmark harness (stdlib only).  core measures subjects in fair
interleaved rounds, machine describes the host and the peers' versions,
report writes the results, benchmarks/ holds one module per benchmark.
"""
