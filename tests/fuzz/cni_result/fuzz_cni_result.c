// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: what the CNI plugin makes of the IPAM plugin's answer
 * (ipam.c: cni_ipam_answer) and the ADD result it builds from it
 * (result.c). What must hold besides no crash:
 *
 *  - a failed answer is an error with a code of 1 or more whose JSON can
 *    be written;
 *  - a taken ADD answer has 1 to CNI_MAX_IPS addresses, each kept whole
 *    (never cut to fit a buffer) and of the family it parses as;
 *  - the ADD result built from it can be written, carries "version" on
 *    each IP exactly for versions before 1.0.0, and passes the plugin's own
 *    check of a prevResult: what ADD prints, a later CHECK takes.
 *
 * Input: one byte for the command, the version and the exit status, then
 * the plugin's stdout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "cni.h"

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "cni_result: " __VA_ARGS__);                                       \
		fprintf(stderr, "\n");                                                             \
		abort();                                                                           \
	} while (0)

static void check_error(const struct cni_error *err)
{
	json_t *e = json_pack("{s:s, s:i, s:s, s:s}", "cniVersion", "1.1.0", "code", err->code,
			      "msg", err->msg, "details", err->details);
	char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;

	if (err->code < 1 || !text)
		FAIL("error %d cannot be written: %s: %s", err->code, err->msg, err->details);
	free(text);
	json_decref(e);
}

static void check_taken(const json_t *result, const struct cni_ipam *ipam)
{
	const json_t *ips = json_object_get(result, "ips");

	if (ipam->n_ips < 1 || ipam->n_ips > CNI_MAX_IPS || ipam->n_ips != json_array_size(ips))
		FAIL("%zu addresses taken of %zu", ipam->n_ips, json_array_size(ips));
	for (size_t i = 0; i < ipam->n_ips; i++) {
		const json_t *ip = json_array_get(ips, i);
		const char *addr = json_string_value(json_object_get(ip, "address"));
		const char *gw = json_string_value(json_object_get(ip, "gateway"));

		if (!addr || strcmp(addr, ipam->ips[i].address))
			FAIL("address %zu '%s' taken as '%s'", i, addr, ipam->ips[i].address);
		if (strcmp(gw ? gw : "", ipam->ips[i].gateway))
			FAIL("gateway %zu '%s' taken as '%s'", i, gw, ipam->ips[i].gateway);
		if (cni_address_family(addr, 1) != ipam->ips[i].family ||
		    (ipam->ips[i].family != 4 && ipam->ips[i].family != 6))
			FAIL("address %zu '%s' taken as IPv%d", i, addr, ipam->ips[i].family);
	}
}

static void check_add_result(const struct cni_ipam *ipam, const char *version)
{
	struct cni_call call = {
	    .command = "ADD",
	    .container_id = "0123456789abcdef",
	    .ifname = "eth0",
	    .netns = "/var/run/netns/fuzz",
	    .version = version,
	    .network = "cubenet",
	};
	struct cni_error err = {0};
	json_t *result = cni_result(&call, ipam, "02:00:00:00:00:01", "02:00:00:00:00:02"), *ip;
	int old = !cni_version_at_least(version, "1.0.0");
	char *text = result ? json_dumps(result, JSON_COMPACT) : NULL;
	size_t i;

	if (!text)
		FAIL("the ADD result of a taken answer cannot be written");
	if (cni_result_shape(result, "prevResult", CNI_ERR_INVALID_CONFIG, &err))
		FAIL("ADD's own result is no valid prevResult: %s: %s\n%s", err.msg, err.details,
		     text);
	json_array_foreach(json_object_get(result, "ips"), i, ip)
	{
		const char *v = json_string_value(json_object_get(ip, "version"));

		if (old != !!v || (v && strcmp(v, ipam->ips[i].family == 6 ? "6" : "4")))
			FAIL("cniVersion %s: ips[%zu].version is '%s'", version, i, v);
	}
	free(text);
	json_decref(result);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const commands[] = {"ADD", "ADD", "DEL", "CHECK"};
	const char *command, *version;
	struct cni_ipam ipam;
	struct cni_error err = {0};
	json_t *result;
	char *output;
	int status;

	if (size < 1)
		return -1;
	command = commands[data[0] & 3];
	version = cni_supported_versions[(data[0] >> 2) % 5];
	/* Mostly a clean exit; else an exit code or a signal. */
	status = data[0] >> 5 == 7 ? 9 : data[0] >> 5 == 6 ? 1 << 8 : 0;
	output = malloc(size);
	if (!output)
		return 0;
	memcpy(output, data + 1, size - 1);
	output[size - 1] = '\0'; /* run() hands on stdout as a C string */
	result = json_loads(output, 0, NULL);
	if (cni_ipam_answer("host-local", command, result, output, status, &ipam, &err)) {
		check_error(&err);
	} else if (!strcmp(command, "ADD")) {
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			FAIL("a failed plugin's answer was taken");
		check_taken(result, &ipam);
		check_add_result(&ipam, version);
		cni_ipam_free(&ipam);
	}
	json_decref(result);
	free(output);
	return 0;
}
