// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <yaml.h>
#include "buf.h"
#include "kubeconfig.h"

#define TOKEN_REREAD_SECONDS 60
#define MAX_FILE	     (1 << 20)

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A whole small file, NUL-terminated; NULL with errno set. */
static char *slurp(const char *path)
{
	struct buf b = {0};
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > MAX_FILE || buf_append(&b, chunk, n)) {
			buf_free(&b);
			fclose(f);
			errno = EFBIG;
			return NULL;
		}
	}
	fclose(f);
	if (!b.data)
		buf_append(&b, "", 0);
	return b.data;
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

static int read_token(struct kube_config *kc)
{
	char *t = slurp(kc->token_file);

	if (!t)
		return -1;
	trim(t);
	free(kc->token);
	kc->token = t;
	kc->token_read = time(NULL);
	return 0;
}

int kube_config_in_cluster(struct kube_config *kc, const char *dir, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char path[512];
	int v6;

	memset(kc, 0, sizeof(*kc));
	if (!host || !*host || !port || !*port)
		return fail(err, errlen,
			    "not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
			    "are not set (use --kubeconfig)");
	v6 = strchr(host, ':') != NULL;
	if (asprintf(&kc->server, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port) <
	    0) {
		kc->server = NULL;
		return fail(err, errlen, "out of memory");
	}
	snprintf(path, sizeof(path), "%s/token", dir);
	kc->token_file = strdup(path);
	if (read_token(kc)) {
		fail(err, errlen, "cannot read the service account token %s: %s", path,
		     strerror(errno));
		kube_config_free(kc);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	kc->ca_file = strdup(path);
	return 0;
}

/* A YAML document as JSON: mappings, sequences and scalars (as strings). */
static json_t *yaml_node_json(yaml_document_t *doc, yaml_node_t *node, int depth)
{
	json_t *out = NULL;

	if (!node || depth > 32)
		return NULL;
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return json_stringn((const char *)node->data.scalar.value,
				    node->data.scalar.length);
	case YAML_SEQUENCE_NODE:
		out = json_array();
		for (yaml_node_item_t *i = node->data.sequence.items.start;
		     i < node->data.sequence.items.top; i++) {
			json_t *v = yaml_node_json(doc, yaml_document_get_node(doc, *i), depth + 1);

			if (!v)
				goto bad;
			json_array_append_new(out, v);
		}
		return out;
	case YAML_MAPPING_NODE:
		out = json_object();
		for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
		     p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			json_t *v =
			    yaml_node_json(doc, yaml_document_get_node(doc, p->value), depth + 1);

			if (!k || k->type != YAML_SCALAR_NODE || !v) {
				json_decref(v);
				goto bad;
			}
			json_object_set_new(out, (const char *)k->data.scalar.value, v);
		}
		return out;
	default:
		return NULL;
	}
bad:
	json_decref(out);
	return NULL;
}

static json_t *load_yaml(const char *text)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	json_t *out = NULL;

	if (!yaml_parser_initialize(&parser))
		return NULL;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	if (yaml_parser_load(&parser, &doc)) {
		out = yaml_node_json(&doc, yaml_document_get_root_node(&doc), 0);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	return out;
}

/* The entry of list `key` whose name is `name`, its member `field`. */
static json_t *named(json_t *config, const char *key, const char *name, const char *field)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(config, key), i, e)
	{
		const char *n = json_string_value(json_object_get(e, "name"));

		if (n && strcmp(n, name) == 0)
			return json_object_get(e, field);
	}
	return NULL;
}

static const char *str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && *s ? s : NULL;
}

/* A path in the kubeconfig, relative to the file's directory. */
static char *resolve(const char *config_path, const char *p)
{
	const char *slash = strrchr(config_path, '/');
	char *out;

	if (p[0] == '/' || !slash)
		return strdup(p);
	if (asprintf(&out, "%.*s/%s", (int)(slash - config_path), config_path, p) < 0)
		return NULL;
	return out;
}

/* *-data fields: base64 of PEM. */
static char *base64_decode(const char *in)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;
	char *out = malloc(n / 4 * 3 + 4);
	unsigned acc = 0;
	int bits = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *p;

		if (in[i] == '=' || in[i] == '\n' || in[i] == '\r' || in[i] == ' ')
			continue;
		p = strchr(alphabet, in[i]);
		if (!p || !in[i]) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)(p - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	return out;
}

/* A file-or-data pair of fields into *file or *pem. */
static int file_or_data(json_t *obj, const char *file_key, const char *data_key,
			const char *config_path, char **file, char **pem)
{
	const char *v;

	if ((v = str(obj, data_key))) {
		*pem = base64_decode(v);
		return *pem ? 0 : -1;
	}
	if ((v = str(obj, file_key))) {
		*file = resolve(config_path, v);
		return *file ? 0 : -1;
	}
	return 0;
}

int kube_config_load(struct kube_config *kc, const char *path, const char *context, char *err,
		     size_t errlen)
{
	json_t *config, *ctx, *cluster, *user;
	const char *cluster_name, *user_name, *v;
	char *text;

	memset(kc, 0, sizeof(*kc));
	text = slurp(path);
	if (!text)
		return fail(err, errlen, "cannot read kubeconfig %s: %s", path, strerror(errno));
	config = load_yaml(text);
	free(text);
	if (!json_is_object(config)) {
		json_decref(config);
		return fail(err, errlen, "kubeconfig %s: not a YAML mapping", path);
	}
	if (!context)
		context = str(config, "current-context");
	if (!context) {
		fail(err, errlen, "kubeconfig %s: no current-context (use --context)", path);
		goto bad;
	}
	ctx = named(config, "contexts", context, "context");
	cluster_name = str(ctx, "cluster");
	user_name = str(ctx, "user");
	if (!cluster_name) {
		fail(err, errlen, "kubeconfig %s: no context %s with a cluster", path, context);
		goto bad;
	}
	cluster = named(config, "clusters", cluster_name, "cluster");
	v = str(cluster, "server");
	if (!v || strncmp(v, "https://", 8)) {
		fail(err, errlen, "kubeconfig %s: cluster %s needs an https:// server", path,
		     cluster_name);
		goto bad;
	}
	kc->server = strdup(v);
	if (kc->server[strlen(kc->server) - 1] == '/')
		kc->server[strlen(kc->server) - 1] = '\0';
	if ((v = str(cluster, "insecure-skip-tls-verify")) && strcmp(v, "true") == 0) {
		fail(err, errlen,
		     "kubeconfig %s: cluster %s skips TLS verification; the agent always "
		     "verifies the API server",
		     path, cluster_name);
		goto bad;
	}
	if (str(cluster, "tls-server-name")) {
		fail(err, errlen, "kubeconfig %s: cluster %s: tls-server-name is not supported",
		     path, cluster_name);
		goto bad;
	}
	if (file_or_data(cluster, "certificate-authority", "certificate-authority-data", path,
			 &kc->ca_file, &kc->ca_pem)) {
		fail(err, errlen, "kubeconfig %s: cluster %s: bad certificate-authority-data", path,
		     cluster_name);
		goto bad;
	}
	user = user_name ? named(config, "users", user_name, "user") : NULL;
	if (json_object_get(user, "exec") || json_object_get(user, "auth-provider")) {
		fail(err, errlen,
		     "kubeconfig %s: user %s uses an exec or auth-provider plugin; the agent "
		     "takes a token, a token file or a client certificate",
		     path, user_name);
		goto bad;
	}
	if ((v = str(user, "token")))
		kc->token = strdup(v);
	else if ((v = str(user, "tokenFile"))) {
		kc->token_file = resolve(path, v);
		if (!kc->token_file || read_token(kc)) {
			fail(err, errlen, "kubeconfig %s: cannot read tokenFile %s", path, v);
			goto bad;
		}
	}
	if (file_or_data(user, "client-certificate", "client-certificate-data", path,
			 &kc->cert_file, &kc->cert_pem) ||
	    file_or_data(user, "client-key", "client-key-data", path, &kc->key_file,
			 &kc->key_pem)) {
		fail(err, errlen, "kubeconfig %s: user %s: bad client certificate data", path,
		     user_name);
		goto bad;
	}
	if (!(kc->cert_file || kc->cert_pem) != !(kc->key_file || kc->key_pem)) {
		fail(err, errlen, "kubeconfig %s: user %s: a client certificate needs its key",
		     path, user_name);
		goto bad;
	}
	json_decref(config);
	return 0;
bad:
	json_decref(config);
	kube_config_free(kc);
	return -1;
}

const char *kube_config_token(struct kube_config *kc)
{
	/* A failed re-read keeps the old token: the file is replaced by rename. */
	if (kc->token_file && time(NULL) - kc->token_read >= TOKEN_REREAD_SECONDS)
		read_token(kc);
	return kc->token;
}

void kube_config_free(struct kube_config *kc)
{
	free(kc->server);
	free(kc->ca_file);
	free(kc->ca_pem);
	free(kc->token);
	free(kc->token_file);
	free(kc->cert_file);
	free(kc->key_file);
	free(kc->cert_pem);
	free(kc->key_pem);
	memset(kc, 0, sizeof(*kc));
}
