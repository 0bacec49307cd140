/*
 * lwss-bench-report: turns the JSON lines printed by the benchmarks into one
 * report.  Input lines (anything else is ignored):
 *   {"bench":"b","metric":"m","value":1.5,"unit":"u"}
 *   {"bench":"b","metric":"base","value":1.2,"unit":"u","baseline":"m","goal":">=0.8"}
 * A line naming "baseline" is the baseline of metric m of the same bench;
 * the ratio is median(m) / median(base), checked against "goal" if given.
 * Repeated runs of a metric give median, min and max.
 *
 * usage: lwss-bench-report OUTDIR < lines
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
    double v[MAX_RUNS];
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
    double med[MAX_METRICS];
    for (int i = 0; i < n_metrics; i++) {
        med[i] = median(&metrics[i]);
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s/results.json", argv[1]);
    FILE *js = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/results.md", argv[1]);
    FILE *md = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/ratios.dat", argv[1]);
    FILE *dat = fopen(path, "w");
    if (js == NULL || md == NULL || dat == NULL) {
        fprintf(stderr, "lwss-bench-report: cannot write into %s\n", argv[1]);
        return 1;
    }
    fprintf(md, "| bench | metric | median | unit | spread | runs | baseline of | ratio | goal |\n"
                "|---|---|---:|---|---:|---:|---|---:|---|\n");
    fprintf(js, "[\n");
    int missed = 0;
    for (int i = 0; i < n_metrics; i++) {
        metric *m = &metrics[i];
        char ratio_s[32] = "", goal_s[40] = "";
        const metric *primary = m->baseline_of[0] ? find_metric(m->bench, m->baseline_of) : NULL;
        double ratio = 0.0;
        if (primary != NULL && med[i] != 0.0) {
            ratio = med[primary - metrics] / med[i];
            snprintf(ratio_s, sizeof(ratio_s), "%.3f", ratio);
            int met = goal_met(m->goal, ratio);
            snprintf(goal_s, sizeof(goal_s), "%s%s", m->goal,
                     met < 0 ? "" : met ? " met" : " **missed**");
            missed += met == 0;
            fprintf(dat, "\"%s/%s\" %.4f\n", m->bench, m->baseline_of, ratio);
        }
        fprintf(md, "| %s | %s | %.4g | %s | %.1f%% | %d | %s | %s | %s |\n", m->bench, m->metric,
                med[i], m->unit, spread_pct(m, med[i]), m->n,
                m->baseline_of, ratio_s, goal_s);
        fprintf(js,
                "  {\"bench\":\"%s\",\"metric\":\"%s\",\"unit\":\"%s\",\"median\":%.6g,"
                "\"min\":%.6g,\"max\":%.6g,\"runs\":%d,\"baseline_of\":\"%s\",\"ratio\":%.6g,"
                "\"goal\":\"%s\"}%s\n",
                m->bench, m->metric, m->unit, med[i], m->v[0], m->v[m->n - 1], m->n,
                m->baseline_of, ratio, m->goal, i + 1 < n_metrics ? "," : "");
    }
    fprintf(js, "]\n");
    fclose(js);
    fclose(md);
    fclose(dat);
    snprintf(path, sizeof(path), "%s/results.md", argv[1]);
    FILE *in = fopen(path, "r");
    while (in != NULL && fgets(line, sizeof(line), in) != NULL) {
        fputs(line, stdout);
    }
    if (in != NULL) {
        fclose(in);
    }
    if (missed > 0) {
        printf("\n%d goal(s) missed\n", missed);
    }
    return 0;
}
