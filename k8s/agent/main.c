// SPDX-License-Identifier: Apache-2.0
/* cubenet-agent: the node agent. See agent.h, and --help. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include "agent.h"
#include "cubenetd_socket.h"
#include "kubeconfig.h"
#include "log.h"
#include "modes.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: cubenet-agent [options]\n"
	    "Keeps cubenetd's cubenet-pods services and node settings in step with the\n"
	    "Kubernetes API: Services, EndpointSlices and Nodes.\n\n"
	    "  --kubeconfig FILE        API server and credentials (default: in-cluster)\n"
	    "  --context NAME           kubeconfig context (default: its current one)\n"
	    "  --serviceaccount-dir DIR in-cluster token and CA (default %s)\n"
	    "  --node-name NAME         this node (default: $NODE_NAME, else the host name)\n"
	    "  --socket PATH            cubenetd's socket (default " CUBENETD_SOCKET ")\n"
	    "  --status-address IP:PORT /metrics, /healthz, /readyz (default 127.0.0.1:9966)\n"
	    "  --cluster-cidr CIDR      the cluster's pod range(s), IPv4 and/or IPv6,\n"
	    "                           comma-separated (default: every Node's podCIDRs)\n"
	    "  --service-cidr CIDR      the service range(s), IPv4 and/or IPv6,\n"
	    "                           comma-separated\n"
	    "  --node-port-range A-B    the NodePort range (default 30000-32767)\n"
	    "  --uplink NETDEV          the uplink (default: the netdev holding the InternalIP)\n"
	    "  --no-masquerade          do not masquerade pod traffic leaving the cluster\n"
	    "  --tunnel MODE            how pods reach other nodes' pods: vxlan (default)\n"
	    "                           or native (the underlay routes pod ranges)\n"
	    "  --vxlan-vni N            the VXLAN network identifier (default 1)\n"
	    "  --vxlan-port N           the VXLAN UDP port (default 8472)\n"
	    "  --write-mode MODE        auto (YANG Patch when cubenetd takes it), plain,\n"
	    "                           yang-patch (default auto)\n"
	    "  --coalesce MS            how long a change waits for the rest of its burst\n"
	    "                           (default 5)\n"
	    "  --max-batch-bytes N      the largest body of one write (default 4194304)\n"
	    "  --resync-period S        full reconcile against cubenetd (default 300)\n"
	    "  --max-backoff S          the longest wait between retries (default 10)\n"
	    "  --endpointslice-version V  v1 or v1beta1 (default: what the server has)\n"
	    "  --log-level LEVEL        error, warning, info (default), debug\n\n"
	    "  --write-cni-config FILE --cni-template FILE\n"
	    "                           write the CNI conflist with this node's podCIDR(s)\n"
	    "  --uninstall [--cni-conf-dir DIR] [--cni-bin-dir DIR] [--ipam-dir DIR]\n"
	    "                           remove everything cubenet put on this node\n",
	    IN_CLUSTER_DIR);
}

/* "a,b,c" into list (pointers into text, which is modified). */
static int split(char *text, const char **list, int *n, int max)
{
	for (char *tok = strtok(text, ","); tok; tok = strtok(NULL, ",")) {
		if (*n == max)
			return -1;
		list[(*n)++] = tok;
	}
	return 0;
}

static int check_cidrs(const char *flag, const char *const *list, int n)
{
	char out[64];

	for (int i = 0; i < n; i++) {
		if (canonical_cidr(list[i], 4, out, sizeof(out)) &&
		    canonical_cidr(list[i], 6, out, sizeof(out))) {
			fprintf(stderr, "cubenet-agent: %s %s: not a CIDR\n", flag, list[i]);
			return -1;
		}
	}
	return 0;
}

static int number(const char *flag, const char *text, double min, double max, double *out)
{
	char *end;

	*out = strtod(text, &end);
	if (*end || !*text || *out < min || *out > max) {
		fprintf(stderr, "cubenet-agent: %s %s: not a number in %g..%g\n", flag, text, min,
			max);
		return -1;
	}
	return 0;
}

static int integer(const char *flag, double d)
{
	if (d == (double)(long)d)
		return 0;
	fprintf(stderr, "cubenet-agent: %s %g: not a whole number\n", flag, d);
	return -1;
}

int main(int argc, char **argv)
{
	static char hostname[256];
	enum {
		O_KUBECONFIG = 256,
		O_CONTEXT,
		O_SA_DIR,
		O_NODE,
		O_SOCKET,
		O_STATUS,
		O_CLUSTER_CIDR,
		O_SERVICE_CIDR,
		O_PORTS,
		O_UPLINK,
		O_NO_MASQ,
		O_TUNNEL,
		O_VNI,
		O_VXLAN_PORT,
		O_MODE,
		O_COALESCE,
		O_BATCH,
		O_RESYNC,
		O_BACKOFF,
		O_SLICES,
		O_LOG,
		O_CNI_OUT,
		O_CNI_TEMPLATE,
		O_UNINSTALL,
		O_CNI_CONF_DIR,
		O_CNI_BIN_DIR,
		O_IPAM_DIR,
		O_HELP,
	};
	static const struct option longopts[] = {
	    {"kubeconfig", 1, 0, O_KUBECONFIG},
	    {"context", 1, 0, O_CONTEXT},
	    {"serviceaccount-dir", 1, 0, O_SA_DIR},
	    {"node-name", 1, 0, O_NODE},
	    {"socket", 1, 0, O_SOCKET},
	    {"status-address", 1, 0, O_STATUS},
	    {"cluster-cidr", 1, 0, O_CLUSTER_CIDR},
	    {"service-cidr", 1, 0, O_SERVICE_CIDR},
	    {"node-port-range", 1, 0, O_PORTS},
	    {"uplink", 1, 0, O_UPLINK},
	    {"no-masquerade", 0, 0, O_NO_MASQ},
	    {"tunnel", 1, 0, O_TUNNEL},
	    {"vxlan-vni", 1, 0, O_VNI},
	    {"vxlan-port", 1, 0, O_VXLAN_PORT},
	    {"write-mode", 1, 0, O_MODE},
	    {"coalesce", 1, 0, O_COALESCE},
	    {"max-batch-bytes", 1, 0, O_BATCH},
	    {"resync-period", 1, 0, O_RESYNC},
	    {"max-backoff", 1, 0, O_BACKOFF},
	    {"endpointslice-version", 1, 0, O_SLICES},
	    {"log-level", 1, 0, O_LOG},
	    {"write-cni-config", 1, 0, O_CNI_OUT},
	    {"cni-template", 1, 0, O_CNI_TEMPLATE},
	    {"uninstall", 0, 0, O_UNINSTALL},
	    {"cni-conf-dir", 1, 0, O_CNI_CONF_DIR},
	    {"cni-bin-dir", 1, 0, O_CNI_BIN_DIR},
	    {"ipam-dir", 1, 0, O_IPAM_DIR},
	    {"help", 0, 0, O_HELP},
	    {0, 0, 0, 0},
	};
	struct options o = {
	    .serviceaccount_dir = IN_CLUSTER_DIR,
	    .socket = CUBENETD_SOCKET,
	    .status_address = "127.0.0.1:9966",
	    .node = {.port_min = 30000,
		     .port_max = 32767,
		     .masquerade = 1,
		     .tunnel = "vxlan",
		     .vni = 1,
		     .vxlan_port = 8472},
	    .write_mode = WRITE_AUTO,
	    .coalesce = 0.005,
	    .max_batch_bytes = 4 << 20,
	    .resync_period = 300,
	    .max_backoff = 10,
	    .cni_conf_dir = "/etc/cni/net.d",
	    .cni_bin_dir = "/opt/cni/bin",
	    .ipam_dir = "/var/lib/cubenet/ipam",
	};
	double d;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_KUBECONFIG:
			o.kubeconfig = optarg;
			break;
		case O_CONTEXT:
			o.context = optarg;
			break;
		case O_SA_DIR:
			o.serviceaccount_dir = optarg;
			break;
		case O_NODE:
			o.node.name = optarg;
			break;
		case O_SOCKET:
			o.socket = optarg;
			break;
		case O_STATUS:
			o.status_address = optarg;
			break;
		case O_CLUSTER_CIDR:
			if (split(optarg, o.node.cluster_cidrs, &o.node.n_cluster_cidrs, MAX_CIDRS))
				goto bad;
			break;
		case O_SERVICE_CIDR:
			if (split(optarg, o.node.service_cidrs, &o.node.n_service_cidrs, MAX_CIDRS))
				goto bad;
			break;
		case O_PORTS:
			if (sscanf(optarg, "%d-%d", &o.node.port_min, &o.node.port_max) != 2 ||
			    o.node.port_min < 1 || o.node.port_max > 65535 ||
			    o.node.port_min > o.node.port_max) {
				fprintf(stderr,
					"cubenet-agent: --node-port-range %s: not A-B within "
					"1..65535\n",
					optarg);
				return 2;
			}
			break;
		case O_UPLINK:
			o.node.uplink = optarg;
			break;
		case O_NO_MASQ:
			o.node.masquerade = 0;
			break;
		case O_TUNNEL:
			if (strcmp(optarg, "vxlan") && strcmp(optarg, "native"))
				goto bad;
			o.node.tunnel = optarg;
			break;
		case O_VNI:
			if (number("--vxlan-vni", optarg, 1, 16777215, &d) ||
			    integer("--vxlan-vni", d))
				return 2;
			o.node.vni = (int)d;
			break;
		case O_VXLAN_PORT:
			if (number("--vxlan-port", optarg, 1, 65535, &d) ||
			    integer("--vxlan-port", d))
				return 2;
			o.node.vxlan_port = (int)d;
			break;
		case O_MODE:
			if (strcmp(optarg, "auto") == 0)
				o.write_mode = WRITE_AUTO;
			else if (strcmp(optarg, "plain") == 0)
				o.write_mode = WRITE_PLAIN;
			else if (strcmp(optarg, "yang-patch") == 0)
				o.write_mode = WRITE_YANG_PATCH;
			else
				goto bad;
			break;
		case O_COALESCE:
			if (number("--coalesce", optarg, 0, 10000, &d))
				return 2;
			o.coalesce = d / 1000;
			break;
		case O_BATCH:
			if (number("--max-batch-bytes", optarg, 4096, 1 << 30, &d))
				return 2;
			o.max_batch_bytes = (size_t)d;
			break;
		case O_RESYNC:
			if (number("--resync-period", optarg, 1, 86400, &d))
				return 2;
			o.resync_period = d;
			break;
		case O_BACKOFF:
			if (number("--max-backoff", optarg, 0.1, 3600, &d))
				return 2;
			o.max_backoff = d;
			break;
		case O_SLICES:
			if (strcmp(optarg, "v1") && strcmp(optarg, "v1beta1"))
				goto bad;
			o.slice_version = optarg;
			break;
		case O_LOG:
			if (strcmp(optarg, "error") == 0)
				log_threshold = LOG_ERROR;
			else if (strcmp(optarg, "warning") == 0)
				log_threshold = LOG_WARN;
			else if (strcmp(optarg, "info") == 0)
				log_threshold = LOG_INFO;
			else if (strcmp(optarg, "debug") == 0)
				log_threshold = LOG_DEBUG;
			else
				goto bad;
			break;
		case O_CNI_OUT:
			o.cni_conf_out = optarg;
			break;
		case O_CNI_TEMPLATE:
			o.cni_template = optarg;
			break;
		case O_UNINSTALL:
			o.uninstall = 1;
			break;
		case O_CNI_CONF_DIR:
			o.cni_conf_dir = optarg;
			break;
		case O_CNI_BIN_DIR:
			o.cni_bin_dir = optarg;
			break;
		case O_IPAM_DIR:
			o.ipam_dir = optarg;
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind < argc)
		goto bad;
	if (check_cidrs("--cluster-cidr", o.node.cluster_cidrs, o.node.n_cluster_cidrs) ||
	    check_cidrs("--service-cidr", o.node.service_cidrs, o.node.n_service_cidrs))
		return 2;
	if (!o.node.name)
		o.node.name = getenv("NODE_NAME");
	if (!o.node.name || !*o.node.name) {
		if (gethostname(hostname, sizeof(hostname) - 1))
			goto bad;
		o.node.name = hostname;
	}
	if (!!o.cni_conf_out != !!o.cni_template) {
		fprintf(stderr, "cubenet-agent: --write-cni-config needs --cni-template\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (o.uninstall)
		rc = uninstall(&o);
	else if (o.cni_conf_out)
		rc = write_cni_config(&o);
	else
		rc = agent_run(&o);
	curl_global_cleanup();
	return rc;
bad:
	usage(stderr);
	return 2;
}
