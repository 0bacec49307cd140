/*
 * lwss-bench-report: turns the JSON lines printed by the benchmarks into one
 * report.  Input lines (anything else is ignored):
 *   {"bench":"b","metric":"m","value":1.5,"unit":"u"}
 *   {"bench":"b","metric":"base","value":1.2,"unit":"u","baseline":"m","goal":">=0.8"}
 * A line naming "baseline" is the baseline of metric m of the same bench;
 * the ratio is lwss / baseline (median of the per-run ratios, see
 * ratio_of), checked against "goal" if given.
 * Repeated runs of a metric give median, min and max.
 *
 * usage: lwss-bench-report OUTDIR < lines
 * "better" says which way a ratio is good (lower for times and sizes).
 * writes OUTDIR/results.json, OUTDIR/results.md, OUTDIR/ratios.dat and
 * prints the Markdown table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_METRICS 256
#define MAX_RUNS 64
#define NAME_LEN 64

typedef struct {
    char bench[NAME_LEN], metric[NAME_LEN], unit[NAME_LEN], baseline_of[NAME_LEN], goal[16];
    double v[MAX_RUNS];        /* sorted by median() */
    double in_order[MAX_RUNS]; /* as the runs came: run i of a metric pairs with run i of its baseline */
    int n;
} metric;

static metric metrics[MAX_METRICS];
static int n_metrics;

/* Value of "key" in a flat one-line JSON object: string or number text. */
static int field(const char *line, const char *key, char *out, size_t out_len)
{
    char pat[NAME_LEN + 4];
    snprintf(pat, sizeof(pat), "\"%s\"", key);
    const char *p = strstr(line, pat);
    if (p == NULL) {
        return 0;
    }
    p += strlen(pat);
    while (*p == ' ' || *p == ':') {
        p++;
    }
    size_t n = 0;
    if (*p == '"') {
        p++;
        while (*p != '\0' && *p != '"' && n + 1 < out_len) {
            out[n++] = *p++;
        }
    } else {
        while (*p != '\0' && *p != ',' && *p != '}' && *p != ' ' && n + 1 < out_len) {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    return n > 0;
}

static metric *find_metric(const char *bench, const char *name)
{
    for (int i = 0; i < n_metrics; i++) {
        if (strcmp(metrics[i].bench, bench) == 0 && strcmp(metrics[i].metric, name) == 0) {
            return &metrics[i];
        }
    }
    return NULL;
}

static void add_line(const char *line)
{
    char bench[NAME_LEN], name[NAME_LEN], value[64], unit[NAME_LEN] = "", base[NAME_LEN] = "";
    char goal[16] = "";
    if (!field(line, "bench", bench, sizeof(bench)) || !field(line, "metric", name, sizeof(name)) ||
        !field(line, "value", value, sizeof(value))) {
        return;
    }
    field(line, "unit", unit, sizeof(unit));
    field(line, "baseline", base, sizeof(base));
    field(line, "goal", goal, sizeof(goal));
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (errno != 0 || *end != '\0') {
        return;
    }
    metric *m = find_metric(bench, name);
    if (m == NULL) {
        if (n_metrics == MAX_METRICS) {
            return;
        }
        m = &metrics[n_metrics++];
        memset(m, 0, sizeof(*m));
        snprintf(m->bench, sizeof(m->bench), "%s", bench);
        snprintf(m->metric, sizeof(m->metric), "%s", name);
        snprintf(m->unit, sizeof(m->unit), "%s", unit);
        snprintf(m->baseline_of, sizeof(m->baseline_of), "%s", base);
        snprintf(m->goal, sizeof(m->goal), "%s", goal);
    }
    if (m->n < MAX_RUNS) {
        m->in_order[m->n] = v;
        m->v[m->n++] = v;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(metric *m)
{
    qsort(m->v, (size_t)m->n, sizeof(double), cmp_double);
    return m->n % 2 ? m->v[m->n / 2] : (m->v[m->n / 2 - 1] + m->v[m->n / 2]) / 2.0;
}

static double spread_pct(const metric *m, double med)
{
    return med != 0.0 ? 100.0 * (m->v[m->n - 1] - m->v[0]) / med : 0.0;
}

/* "≥0.8"-style goal against a ratio: 1 met, 0 missed, -1 no goal. */
static int goal_met(const char *goal, double ratio)
{
    double g;
    if (strncmp(goal, ">=", 2) == 0 && sscanf(goal + 2, "%lf", &g) == 1) {
        return ratio >= g;
    }
    if (strncmp(goal, "<=", 2) == 0 && sscanf(goal + 2, "%lf", &g) == 1) {
        return ratio <= g;
    }
    return -1;
}

/*
 * lwss / baseline: the median of the per-run ratios when both have one value
 * per run (each run measures both, so machine-load drift between runs
 * cancels), else the ratio of the medians.
 */
static double ratio_of(const metric *p, double p_med, const metric *b, double b_med)
{
    if (p->n != b->n || p->n == 0) {
        return b_med != 0.0 ? p_med / b_med : 0.0;
    }
    double r[MAX_RUNS];
    for (int i = 0; i < p->n; i++) {
        r[i] = b->in_order[i] != 0.0 ? p->in_order[i] / b->in_order[i] : 0.0;
    }
    qsort(r, (size_t)p->n, sizeof(double), cmp_double);
    return p->n % 2 ? r[p->n / 2] : (r[p->n / 2 - 1] + r[p->n / 2]) / 2.0;
}

/* Times, sizes and amplification: lower is better; rates and counts: higher. */
static int lower_is_better(const char *unit)
{
    static const char *const lower[] = {"ms", "us", "s", "B", "bytes", "bytes/byte", "reads"};
    for (size_t i = 0; i < sizeof(lower) / sizeof(lower[0]); i++) {
        if (strcmp(unit, lower[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static FILE *open_out(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "lwss-bench-report: cannot write %s\n", path);
    }
    return f;
}

static int is_primary(int idx)
{
    for (int i = 0; i < n_metrics; i++) {
        if (metrics[i].baseline_of[0] && strcmp(metrics[i].bench, metrics[idx].bench) == 0 &&
            strcmp(metrics[i].baseline_of, metrics[idx].metric) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * One row per comparison (a baseline line and the lwss figure it names),
 * then the figures that stand alone.  ratios.dat feeds the chart:
 *   row "label" normalised raw_ratio normalised_goal met lower_is_better
 * where normalised > 1 always means lwss is better (inverted for times).
 */
static int write_tables(const double *med, FILE *md, FILE *dat)
{
    int missed = 0, row = 0;
    fprintf(md, "| bench | lwss figure | lwss | baseline (same run) | baseline | unit | ratio lwss/base "
                "| better | goal | spread lwss / base |\n"
                "|---|---|---:|---|---:|---|---:|---|---|---|\n");
    for (int i = 0; i < n_metrics; i++) {
        metric *b = &metrics[i];
        const metric *p = b->baseline_of[0] ? find_metric(b->bench, b->baseline_of) : NULL;
        if (p == NULL || med[i] == 0.0) {
            continue;
        }
        int pi = (int)(p - metrics), low = lower_is_better(p->unit);
        double ratio = ratio_of(p, med[pi], b, med[i]), g = 0.0;
        int met = goal_met(b->goal, ratio);
        missed += met == 0;
        char goal_s[40] = "";
        if (b->goal[0]) {
            snprintf(goal_s, sizeof(goal_s), "%s %s", b->goal, met ? "met" : "**MISSED**");
        }
        fprintf(md, "| %s | %s | %.4g | %s | %.4g | %s | %.3f | %s | %s | %.0f%% / %.0f%% |\n",
                b->bench, p->metric, med[pi], b->metric, med[i], p->unit, ratio,
                low ? "lower" : "higher", goal_s, spread_pct(p, med[pi]), spread_pct(b, med[i]));
        double norm = low ? 1.0 / ratio : ratio;
        double goal_norm = met >= 0 && sscanf(b->goal + 2, "%lf", &g) == 1 && g > 0
                               ? (low ? 1.0 / g : g) : -1.0;
        fprintf(dat, "%d \"%s: %s vs %s\" %.5g %.5g %.5g %d %d\n", row++, b->bench, p->metric,
                b->metric, norm, ratio, goal_norm, met, low);
    }
    fprintf(md, "\n| bench | figure | median | unit | spread | runs |\n|---|---|---:|---|---:|---:|\n");
    for (int i = 0; i < n_metrics; i++) {
        metric *m = &metrics[i];
        if (!m->baseline_of[0] && !is_primary(i)) {
            fprintf(md, "| %s | %s | %.4g | %s | %.0f%% | %d |\n", m->bench, m->metric, med[i],
                    m->unit, spread_pct(m, med[i]), m->n);
        }
    }
    return missed;
}

static void write_json(const double *med, FILE *js)
{
    fprintf(js, "[\n");
    for (int i = 0; i < n_metrics; i++) {
        const metric *m = &metrics[i];
        const metric *p = m->baseline_of[0] ? find_metric(m->bench, m->baseline_of) : NULL;
        double ratio = p != NULL ? ratio_of(p, med[p - metrics], m, med[i]) : 0.0;
        fprintf(js,
                "  {\"bench\":\"%s\",\"metric\":\"%s\",\"unit\":\"%s\",\"median\":%.6g,"
                "\"min\":%.6g,\"max\":%.6g,\"runs\":%d,\"baseline_of\":\"%s\",\"ratio\":%.6g,"
                "\"lower_is_better\":%s,\"goal\":\"%s\",\"goal_met\":%d}%s\n",
                m->bench, m->metric, m->unit, med[i], m->v[0], m->v[m->n - 1], m->n,
                m->baseline_of, ratio, lower_is_better(p != NULL ? p->unit : m->unit) ? "true" : "false",
                m->goal, p != NULL ? goal_met(m->goal, ratio) : -1, i + 1 < n_metrics ? "," : "");
    }
    fprintf(js, "]\n");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: lwss-bench-report OUTDIR < lines\n");
        return 2;
    }
    char line[2048];
    while (fgets(line, sizeof(line), stdin) != NULL) {
        if (line[0] == '{') {
            add_line(line);
        }
    }
    if (n_metrics == 0) {
        fprintf(stderr, "lwss-bench-report: no benchmark results on input\n");
        return 1;
    }
    static double med[MAX_METRICS];
    for (int i = 0; i < n_metrics; i++) {
        med[i] = median(&metrics[i]);
    }
    FILE *js = open_out(argv[1], "results.json");
    FILE *md = open_out(argv[1], "results.md");
    FILE *dat = open_out(argv[1], "ratios.dat");
    if (js == NULL || md == NULL || dat == NULL) {
        return 1;
    }
    write_json(med, js);
    int missed = write_tables(med, md, dat);
    if (missed > 0) {
        fprintf(md, "\n%d goal(s) missed\n", missed);
    }
    fclose(js);
    fclose(md);
    fclose(dat);
    char path[1024];
    snprintf(path, sizeof(path), "%s/results.md", argv[1]);
    FILE *in = fopen(path, "r");
    while (in != NULL && fgets(line, sizeof(line), in) != NULL) {
        fputs(line, stdout);
    }
    if (in != NULL) {
        fclose(in);
    }
    return 0;
}
