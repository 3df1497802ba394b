/*
 * A small command-line front end on CRFsuite's C library, standing in for
 * CRFsuite's own `crfsuite learn` / `crfsuite tag` (whose front-end sources
 * are not in the npm package that carries the library). Written for
 * scripts/bench/vs-crfsuite.ts: a whole process on each side, reading the
 * data file, training or tagging, writing the model or the labels.
 *
 *   crfsuite-cli learn -a ALGORITHM [-p NAME=VALUE]... -m MODEL DATA
 *   crfsuite-cli tag -m MODEL DATA > PREDICTIONS
 *
 * ALGORITHM: lbfgs, l2sgd, ap (averaged-perceptron), pa (passive-aggressive),
 * arow. DATA ("-": standard input, e.g. conll2crfsuite.py's output piped in): CRFsuite's format, one item per line (LABEL<TAB>ATTR[:VALUE]…),
 * a blank line between sequences; in an attribute `\:` is a colon and `\\` a
 * backslash, and the first unescaped colon starts the value (default 1).
 * Lines starting with '@' (declarations) are skipped. `tag` writes one
 * predicted label per line and a blank line after each sequence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crfsuite.h>

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "ERROR: %s%s\n", msg, arg ? arg : "");
    exit(1);
}

/* The data file, or standard input for "-". */
static FILE *open_data(const char *path)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (fp == NULL) die("cannot open ", path);
    return fp;
}

/* Unescape field f in place; return the value after the first unescaped ':' (1 if none). */
static double split_field(char *f)
{
    char *w = f;
    char *r = f;
    double value = 1.0;
    while (*r) {
        if (r[0] == '\\' && (r[1] == ':' || r[1] == '\\')) {
            *w++ = r[1];
            r += 2;
        } else if (r[0] == ':') {
            value = atof(r + 1);
            break;
        } else {
            *w++ = *r++;
        }
    }
    *w = 0;
    return value;
}

/*
 * Read DATA into instances. For training (`grow`) the dictionaries learn new
 * names (get); for tagging they are only looked up (to_id), unknown
 * attributes are dropped and an unknown label becomes id L.
 */
typedef void (*instance_fn)(crfsuite_instance_t *inst, void *user);

static void read_data(FILE *fp, crfsuite_dictionary_t *attrs, crfsuite_dictionary_t *labels,
                      int grow, instance_fn fn, void *user)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    crfsuite_instance_t inst;
    crfsuite_instance_init(&inst);
    int L = labels->num(labels);
    while ((n = getline(&line, &cap, fp)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0) {
            if (!crfsuite_instance_empty(&inst)) fn(&inst, user);
            crfsuite_instance_finish(&inst);
            crfsuite_instance_init(&inst);
            continue;
        }
        if (line[0] == '@') continue;
        crfsuite_item_t item;
        crfsuite_item_init(&item);
        char *save = NULL;
        char *f = strtok_r(line, "\t", &save);
        int lid = -1;
        if (f != NULL) {
            lid = grow ? labels->get(labels, f) : labels->to_id(labels, f);
            if (lid < 0) lid = L;
        }
        while ((f = strtok_r(NULL, "\t", &save)) != NULL) {
            double v = split_field(f);
            int aid = grow ? attrs->get(attrs, f) : attrs->to_id(attrs, f);
            if (aid < 0) continue;
            crfsuite_attribute_t a;
            crfsuite_attribute_set(&a, aid, v);
            crfsuite_item_append_attribute(&item, &a);
        }
        crfsuite_instance_append(&inst, &item, lid);
        crfsuite_item_finish(&item);
    }
    if (!crfsuite_instance_empty(&inst)) fn(&inst, user);
    crfsuite_instance_finish(&inst);
    free(line);
}

static void append_instance(crfsuite_instance_t *inst, void *user)
{
    crfsuite_data_append((crfsuite_data_t *)user, inst);
}

static int quiet(void *user, const char *format, va_list args)
{
    (void)user;
    (void)format;
    (void)args;
    return 0;
}

static int learn(int argc, char **argv)
{
    const char *algorithm = "lbfgs";
    const char *model = NULL;
    const char *path = NULL;
    char trainer_id[128];
    crfsuite_trainer_t *trainer = NULL;
    crfsuite_data_t data;
    int i;
    crfsuite_data_init(&data);
    if (!crfsuite_create_instance("dictionary", (void **)&data.attrs) ||
        !crfsuite_create_instance("dictionary", (void **)&data.labels))
        die("cannot create a dictionary", NULL);
    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-a") == 0 && i + 1 < argc) {
            const char *a = argv[++i];
            algorithm = strcmp(a, "ap") == 0   ? "averaged-perceptron"
                        : strcmp(a, "pa") == 0 ? "passive-aggressive"
                                               : a;
        } else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc) {
            model = argv[++i];
        } else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
            i++;
        } else {
            path = argv[i];
        }
    }
    if (model == NULL || path == NULL) die("usage: learn -a ALGORITHM [-p NAME=VALUE]... -m MODEL DATA", NULL);
    snprintf(trainer_id, sizeof trainer_id, "train/crf1d/%s", algorithm);
    if (!crfsuite_create_instance(trainer_id, (void **)&trainer)) die("unknown algorithm: ", algorithm);
    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
            char *name = argv[++i];
            char *value = strchr(name, '=');
            if (value == NULL) die("expected -p NAME=VALUE, got ", name);
            *value++ = 0;
            crfsuite_params_t *params = trainer->params(trainer);
            if (params->set(params, name, value) != 0) die("unknown parameter: ", name);
            params->release(params);
        } else if (strcmp(argv[i], "-a") == 0 || strcmp(argv[i], "-m") == 0) {
            i++;
        }
    }
    FILE *fp = open_data(path);
    read_data(fp, data.attrs, data.labels, 1, append_instance, &data);
    if (fp != stdin) fclose(fp);
    trainer->set_message_callback(trainer, NULL, quiet);
    int ret = trainer->train(trainer, &data, model, -1);
    trainer->release(trainer);
    data.labels->release(data.labels);
    data.attrs->release(data.attrs);
    crfsuite_data_finish(&data);
    return ret;
}

typedef struct {
    crfsuite_tagger_t *tagger;
    crfsuite_dictionary_t *labels;
    int *out;
    int cap;
} tag_state_t;

static void tag_instance(crfsuite_instance_t *inst, void *user)
{
    tag_state_t *s = (tag_state_t *)user;
    floatval_t score;
    int t;
    if (s->cap < inst->num_items) {
        s->cap = 2 * inst->num_items;
        s->out = (int *)realloc(s->out, sizeof(int) * s->cap);
    }
    if (s->tagger->set(s->tagger, inst) != 0 || s->tagger->viterbi(s->tagger, s->out, &score) != 0)
        die("tagging failed", NULL);
    for (t = 0; t < inst->num_items; t++) {
        const char *label = NULL;
        s->labels->to_string(s->labels, s->out[t], &label);
        fputs(label, stdout);
        fputc('\n', stdout);
        s->labels->free(s->labels, label);
    }
    fputc('\n', stdout);
}

static int tag(int argc, char **argv)
{
    const char *modelPath = NULL;
    const char *path = NULL;
    int i;
    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-m") == 0 && i + 1 < argc) modelPath = argv[++i];
        else path = argv[i];
    }
    if (modelPath == NULL || path == NULL) die("usage: tag -m MODEL DATA", NULL);
    crfsuite_model_t *model = NULL;
    crfsuite_dictionary_t *attrs = NULL;
    tag_state_t s = {NULL, NULL, NULL, 0};
    if (crfsuite_create_instance_from_file(modelPath, (void **)&model) != 0) die("cannot open model ", modelPath);
    if (model->get_tagger(model, &s.tagger) || model->get_attrs(model, &attrs) ||
        model->get_labels(model, &s.labels))
        die("cannot read model ", modelPath);
    FILE *fp = open_data(path);
    read_data(fp, attrs, s.labels, 0, tag_instance, &s);
    if (fp != stdin) fclose(fp);
    free(s.out);
    s.tagger->release(s.tagger);
    attrs->release(attrs);
    s.labels->release(s.labels);
    model->release(model);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "learn") == 0) return learn(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "tag") == 0) return tag(argc - 2, argv + 2);
    die("usage: crfsuite-cli learn|tag …", NULL);
    return 1;
}
