// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "yaml.h"

/* A plain scalar as the YAML 1.2 core schema reads it. */
static json_t *plain_scalar(const char *s)
{
	char *end;

	if (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0)
		return json_null();
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0)
		return json_true();
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0)
		return json_false();
	errno = 0;
	long long v = strtoll(s, &end, 10);

	if (!*end && !errno && (s[0] != '0' || !s[1]))
		return json_integer(v);
	return json_string(s);
}

static json_t *node_to_json(yaml_document_t *doc, yaml_node_t *node, int depth)
{
	json_t *out = NULL;

	if (!node || depth > 64)
		return NULL;
	switch (node->type) {
	case YAML_SCALAR_NODE: {
		const char *s = (const char *)node->data.scalar.value;

		out = node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(s)
									 : json_string(s);
		break;
	}
	case YAML_SEQUENCE_NODE:
		out = json_array();
		for (yaml_node_item_t *i = node->data.sequence.items.start;
		     i < node->data.sequence.items.top; i++) {
			json_t *v = node_to_json(doc, yaml_document_get_node(doc, *i), depth + 1);

			if (!v) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, v);
		}
		break;
	case YAML_MAPPING_NODE:
		out = json_object();
		for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
		     p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			json_t *v =
			    node_to_json(doc, yaml_document_get_node(doc, p->value), depth + 1);

			if (!k || k->type != YAML_SCALAR_NODE || !v) {
				json_decref(v);
				json_decref(out);
				return NULL;
			}
			json_object_set_new(out, (const char *)k->data.scalar.value, v);
		}
		break;
	default:
		break;
	}
	return out;
}

json_t *yaml_load_file(const char *path, struct cli_error *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	yaml_parser_t parser;
	yaml_document_t doc;
	json_t *out = NULL;

	if (!f) {
		cli_fail(err, EXIT_USAGE, "%s: %s", path, strerror(errno));
		return NULL;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		cli_fail(err, EXIT_USAGE, "%s:%zu: %s", path, parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "not YAML or JSON");
	} else {
		out = node_to_json(&doc, yaml_document_get_root_node(&doc), 0);
		if (!out)
			cli_fail(err, EXIT_USAGE, "%s: empty, or keys that are not strings", path);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	if (f != stdin)
		fclose(f);
	return out;
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev)
{
	return yaml_emitter_emit(em, ev) ? 0 : -1;
}

static int emit_scalar(yaml_emitter_t *em, const char *text, int quote)
{
	yaml_event_t ev;

	yaml_scalar_event_initialize(
	    &ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), !quote, 1,
	    quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
	return emit(em, &ev);
}

static int emit_value(yaml_emitter_t *em, const json_t *v)
{
	yaml_event_t ev;
	char buf[64];

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *member;

		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		if (emit(em, &ev))
			return -1;
		json_object_foreach((json_t *)v, key, member)
		{
			if (emit_scalar(em, key, 0) || emit_value(em, member))
				return -1;
		}
		yaml_mapping_end_event_initialize(&ev);
		return emit(em, &ev);
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *item;

		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		if (emit(em, &ev))
			return -1;
		json_array_foreach((json_t *)v, i, item)
		{
			if (emit_value(em, item))
				return -1;
		}
		yaml_sequence_end_event_initialize(&ev);
		return emit(em, &ev);
	}
	case JSON_STRING: {
		/* Quote what a reader would take for another type. */
		const char *s = json_string_value(v);
		json_t *as_plain = plain_scalar(s);
		int quote = !json_is_string(as_plain);

		json_decref(as_plain);
		return emit_scalar(em, s, quote);
	}
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return emit_scalar(em, buf, 0);
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		return emit_scalar(em, buf, 0);
	case JSON_TRUE:
		return emit_scalar(em, "true", 0);
	case JSON_FALSE:
		return emit_scalar(em, "false", 0);
	default:
		return emit_scalar(em, "null", 0);
	}
}

int yaml_print(FILE *out, const json_t *value)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	int rc = -1;

	yaml_emitter_initialize(&em);
	yaml_emitter_set_output_file(&em, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (emit(&em, &ev))
		goto cleanup;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	if (emit(&em, &ev) || emit_value(&em, value))
		goto cleanup;
	yaml_document_end_event_initialize(&ev, 1);
	if (emit(&em, &ev))
		goto cleanup;
	yaml_stream_end_event_initialize(&ev);
	rc = emit(&em, &ev);
cleanup:
	yaml_emitter_delete(&em);
	return rc;
}
