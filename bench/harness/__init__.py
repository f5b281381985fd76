"""scripts/bench: Cicada against mosquitto, side by side, with cicada-bench as the load.

Modules, one concept each:
  stats      median / min / max over rounds
  procfs     CPU time and memory of a process, from /proc
  brokers    start and stop mosquitto and cicada on ephemeral loopback ports
  scenarios  the issue-6 scenarios as cicada-bench command lines and the figures they yield
  runner     one scenario against one fresh broker: load, /proc deltas, figures
  bar        the issue-6 bar and how a figure is judged against it
  table      the printed table
  machine    what the run ran on
  chart      the gnuplot PNG
  main       flags, the interleaved rounds, the results file
"""
