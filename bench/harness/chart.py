"""The PNG: one group per figure that has a bar, Cicada's advantage over mosquitto
beside what the bar needs, on a log scale (1 = level with mosquitto)."""
import os
import shutil
import subprocess


def chart_data(rows) -> list:
    """(label, achieved, needed) for each row with a bar and figures on both sides."""
    points = []
    for row in rows:
        if row.bar is None:
            continue
        pair = row.bar.advantage(row.cicada, row.mosquitto)
        if pair is None:
            continue
        points.append((f"{row.scenario} {row.metric}", pair[0], pair[1]))
    return points


def gnuplot_script(data_path: str, png_path: str, title: str) -> str:
    return f"""
set terminal pngcairo size 1200,650 noenhanced font ',10'
set output '{png_path}'
set title '{title}'
set ylabel 'times better than mosquitto (log scale; lower-is-better figures inverted)'
set logscale y
set yrange [0.05:*]
set grid ytics
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -30 scale 0
set key top right
set bmargin 9
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb '#777777'
plot '{data_path}' using 2:xtic(1) title 'Cicada (median)' lc rgb '#2a7ab0', \\
     '' using 3 title 'issue-6 bar' lc rgb '#e0a030'
"""


def draw(rows, png_path: str, title: str):
    """Writes png_path; returns None on success or the reason it could not."""
    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        return "gnuplot is not installed"
    points = chart_data(rows)
    if not points:
        return "no figure with a bar on both sides"
    data_path = os.path.splitext(png_path)[0] + ".dat"
    with open(data_path, "w") as f:
        for label, achieved, needed in points:
            f.write(f'"{label}" {achieved:.6g} {needed:.6g}\n')
    script = gnuplot_script(data_path, png_path, title.replace("'", ""))
    out = subprocess.run([gnuplot], input=script, capture_output=True, text=True)
    os.unlink(data_path)
    if out.returncode != 0:
        return "gnuplot failed: " + out.stderr.strip()[-500:]
    return None
