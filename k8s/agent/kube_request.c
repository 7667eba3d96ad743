// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <string.h>
#include "kube_request.h"

CURL *kube_request(struct kube_config *kc, const char *path, struct curl_slist **headers)
{
	CURL *curl = curl_easy_init();
	const char *token = kube_config_token(kc);
	char url[2048], auth[8192];

	*headers = NULL;
	if (!curl)
		return NULL;
	snprintf(url, sizeof(url), "%s%s", kc->server, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (kc->ca_pem) {
		struct curl_blob ca = {kc->ca_pem, strlen(kc->ca_pem), CURL_BLOB_NOCOPY};

		curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &ca);
	} else if (kc->ca_file) {
		curl_easy_setopt(curl, CURLOPT_CAINFO, kc->ca_file);
	}
	if (kc->cert_pem) {
		struct curl_blob cert = {kc->cert_pem, strlen(kc->cert_pem), CURL_BLOB_NOCOPY};
		struct curl_blob key = {kc->key_pem, strlen(kc->key_pem), CURL_BLOB_NOCOPY};

		curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &cert);
		curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &key);
		curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (kc->cert_file) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, kc->cert_file);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, kc->key_file);
	}
	*headers = curl_slist_append(*headers, "Accept: application/json");
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		*headers = curl_slist_append(*headers, auth);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, *headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "cubenet-agent");
	curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
	return curl;
}
