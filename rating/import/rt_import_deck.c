/*
 * deck.yaml of an import: comments for the reviewer around a document
 * that libyaml's emitter writes (so the deck's name is quoted as YAML
 * needs, whatever it holds).  The emitter writes no comments; they are
 * written around its output, from text made safe by rt_import_clean (no
 * line break can end a comment early).
 *
 * decimals, rounding and increment are not in any price list: the
 * defaults written are those of rates/example.yaml, and the comments say
 * they must be checked against the carrier's contract.
 */
#include "rating/import/rt_import_int.h"

#include "cdr/csv/cdr_csv_writer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#define RT_IMPORT_DECIMALS "6"
#define RT_IMPORT_ROUNDING "half-up"
#define RT_IMPORT_INCREMENT "60/60"

/* One "# ..." line; the arguments must be clean text. */
static int comment(struct cdr_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int
comment(struct cdr_writer *w, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return CDR_E_IO;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    cdr_writer_raw(w, len > 0 ? "# " : "#", len > 0 ? 2 : 1);
    cdr_writer_raw(w, line, len);
    return cdr_writer_raw(w, "\n", 1);
}

/* Where the prices came from: each file (its name made safe) and what it
 * gave. */
static void
sources(const struct rt_import *im, struct cdr_writer *w)
{
    comment(w, "Imported by referee-rate --import-prices from:");
    for (size_t i = 0; i < im->n_files; i++) {
        const struct rt_import_file *f = &im->files[i];
        const char *path = rt_import_text_at(im, f->path);
        const char *label = rt_import_text_at(im, f->label);
        char name[RT_DECK_MAX_DESCRIPTION + 1];
        rt_import_clean(path, strlen(path), name, sizeof name);
        comment(w, "  %s%s%s: %zu termination prices, %zu origination", name,
                label[0] ? ", " : "", label, f->entries, f->notes);
    }
}

static void
header(const struct rt_import *im, struct cdr_writer *w)
{
    sources(im, w);
    comment(w, "%s", "");
    comment(w, "REVIEW BEFORE USE (rating/README.md, \"Importing the "
               "carrier's price lists\"):");
    comment(w, "- decimals, rounding and increment are not in the price "
               "lists: the values");
    comment(w, "  below are defaults. Check them against the carrier's "
               "contract.");
    comment(w, "- termination.csv holds the termination prices; its "
               "description column");
    comment(w, "  says what each prefix is.");
    comment(w, "- There is no class: sip entry: add one if transfers go to "
               "SIP targets.");
    comment(w, "- There are no origination entries: %s.",
            im->n_notes > 0 ? "see the end of this file"
                            : "add some to price origination calls");
}

/* Origination prices are by number type; a deck prices by prefix, and
 * which prefixes a type covers is the user's to say, not ours to guess. */
static void
footer(const struct rt_import *im, struct cdr_writer *w)
{
    if (im->n_notes == 0)
        return;
    comment(w, "%s", "");
    comment(w, "Origination: the carrier prices it by number type, which a "
               "deck cannot key");
    comment(w, "by prefix. Add origination entries for the prefixes of your "
               "numbers, e.g.");
    comment(w, "  origination:");
    comment(w, "    - { prefix: \"1800\", rate: \"0.0130\" }   # toll free");
    comment(w, "from these prices (%s per minute):", im->currency);
    for (size_t i = 0; i < im->n_notes; i++) {
        const struct rt_import_note *nt = &im->notes[i];
        const char *label = rt_import_text_at(im, im->files[nt->file].label);
        const char *path = rt_import_text_at(im, im->files[nt->file].path);
        char name[RT_DECK_MAX_DESCRIPTION + 1];
        rt_import_clean(path, strlen(path), name, sizeof name);
        comment(w, "  %s%s%s: %s (%s)", label, label[0] ? " " : "",
                rt_import_text_at(im, nt->type),
                rt_import_text_at(im, nt->rate), name);
    }
}

static int
emit_handler(void *data, unsigned char *buffer, size_t size)
{
    return cdr_writer_raw(data, (const char *)buffer, size) == 0;
}

static int
scalar(yaml_emitter_t *e, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    return yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s,
                                        (int)strlen(s), 1, 1, style) &&
           yaml_emitter_emit(e, &ev);
}

static int
pair(yaml_emitter_t *e, const char *key, const char *value,
     yaml_scalar_style_t style)
{
    return scalar(e, key, YAML_PLAIN_SCALAR_STYLE) && scalar(e, value, style);
}

static int
event(yaml_emitter_t *e, int ok, yaml_event_t *ev)
{
    return ok && yaml_emitter_emit(e, ev);
}

/* termination: [{csv: termination.csv}], in block style. */
static int
termination(yaml_emitter_t *e)
{
    yaml_event_t ev;
    return scalar(e, "termination", YAML_PLAIN_SCALAR_STYLE) &&
           event(e,
                 yaml_sequence_start_event_initialize(
                     &ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE),
                 &ev) &&
           event(e,
                 yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                     YAML_BLOCK_MAPPING_STYLE),
                 &ev) &&
           pair(e, "csv", "termination.csv", YAML_PLAIN_SCALAR_STYLE) &&
           event(e, yaml_mapping_end_event_initialize(&ev), &ev) &&
           event(e, yaml_sequence_end_event_initialize(&ev), &ev);
}

/* The document.  The name is double-quoted: a plain `null`, `~` or `123`
 * would not read back as the name given. */
static int
document(yaml_emitter_t *e, const struct rt_import *im, const char *name)
{
    yaml_event_t ev;
    return event(e, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING),
                 &ev) &&
           event(e,
                 yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1),
                 &ev) &&
           event(e,
                 yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                     YAML_BLOCK_MAPPING_STYLE),
                 &ev) &&
           pair(e, "deck", name, YAML_DOUBLE_QUOTED_SCALAR_STYLE) &&
           pair(e, "currency", im->currency, YAML_PLAIN_SCALAR_STYLE) &&
           pair(e, "decimals", RT_IMPORT_DECIMALS, YAML_PLAIN_SCALAR_STYLE) &&
           pair(e, "rounding", RT_IMPORT_ROUNDING, YAML_PLAIN_SCALAR_STYLE) &&
           pair(e, "increment", RT_IMPORT_INCREMENT, YAML_PLAIN_SCALAR_STYLE) &&
           termination(e) &&
           event(e, yaml_mapping_end_event_initialize(&ev), &ev) &&
           event(e, yaml_document_end_event_initialize(&ev, 1), &ev) &&
           event(e, yaml_stream_end_event_initialize(&ev), &ev) &&
           yaml_emitter_flush(e);
}

int
rt_import_write_deck(const struct rt_import *im, struct cdr_writer *w,
                     const char *deck_name)
{
    header(im, w);
    yaml_emitter_t e;
    if (!yaml_emitter_initialize(&e))
        return CDR_E_NOMEM;
    yaml_emitter_set_output(&e, emit_handler, w);
    yaml_emitter_set_unicode(&e, 1);
    int ok = document(&e, im, deck_name);
    yaml_emitter_delete(&e);
    if (!ok)
        return CDR_E_IO;
    footer(im, w);
    return cdr_writer_flush(w);
}
