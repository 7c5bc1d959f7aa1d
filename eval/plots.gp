# plots.gp — the evaluation report's plots, from analyze.py's .dat files.
# Usage: gnuplot -e "dir='OUT'; radius=31" eval/plots.gp
# Columns: threshold.dat = t, then (recall %, false-match %) per configuration;
# hist.dat = distance, then (same-photo %, other-photo %) per configuration;
# peredit.dat = edit, then recall % per configuration. Configuration order is
# analyze.py's CONFIGS, whose names it writes to plotvars.gp.
set terminal pngcairo size 900,520 font "DejaVu Sans,10" noenhanced
load dir."/plotvars.gp"
n = words(names)

set output dir."/threshold.png"
set title "Recall (goal edits) and false-match rate against the match radius"
set xlabel "radius (bits)"
set ylabel "recall (%)"
set y2label "false matches per query/photo pair (%)"
set logscale y2
set y2range [1e-4:100]
set ytics nomirror
set y2tics
set yrange [0:100]
set key bottom right
set arrow from radius, graph 0 to radius, graph 1 nohead dt 2
plot for [i=1:n] dir."/threshold.dat" using 1:(column(2*i)) with lines lw 2 \
         title "recall ".word(names, i), \
     for [i=1:n] dir."/threshold.dat" using 1:(column(2*i+1) > 0 ? column(2*i+1) : 1/0) \
         axes x1y2 with lines dt 3 lw 2 title "false ".word(names, i)
unset arrow
unset logscale y2
unset y2tics
unset y2label

set output dir."/hist.png"
set title "Distance to the right photo (goal edits) and to every other photo"
set xlabel "Hamming distance (bits)"
set ylabel "share of pairs (%)"
set xrange [0:160]
set yrange [0:*]
set key top right
set arrow from radius, graph 0 to radius, graph 1 nohead dt 2
plot dir."/hist.dat" using 1:2 with histeps lw 2 title "same photo, A0 plain", \
     dir."/hist.dat" using 1:(column(2*n)) with histeps lw 2 title "same photo, ".word(names, n), \
     dir."/hist.dat" using 1:3 with histeps lw 2 dt 2 title "other photos, A0 plain", \
     dir."/hist.dat" using 1:(column(2*n+1)) with histeps lw 2 dt 2 title "other photos, ".word(names, n)
unset arrow

set output dir."/peredit.png"
set terminal pngcairo size 1200,520 font "DejaVu Sans,10" noenhanced
set title sprintf("Recall per edit at radius %d", radius)
set xlabel ""
set ylabel "recall (%)"
set xrange [*:*]
set yrange [0:105]
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -45 scale 0
set key outside right
plot for [i=1:n] dir."/peredit.dat" using (column(i+1)):xtic(1) title word(names, i)
