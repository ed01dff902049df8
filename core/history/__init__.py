"""Run history: every recording of a program leaves its per-function aggregates in SQLite.

`store` keeps runs (schema, migrations, concurrent writers), `runs` turns a
profile into a run, `analysis` computes averages, bottlenecks and regressions
over a program's last runs, `render` prints them. No Qt here.
"""
