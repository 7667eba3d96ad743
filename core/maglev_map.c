// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "maglev_map.h"
#include "lib/abi/maglev.h"

int maglev_ring_create(const uint32_t *table, uint32_t size)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	uint32_t slots = size + MAGLEV_RING_HDR_SLOTS;
	uint32_t *keys = NULL;
	int ring_fd, err = 0;

	if (size == 0 || size > MAGLEV_RING_MAX)
		return -EINVAL;
	ring_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "maglev_ring", sizeof(uint32_t),
				 sizeof(uint32_t), slots, &opts);
	if (ring_fd < 0)
		return -errno;
	keys = malloc(slots * sizeof(*keys));
	if (!keys) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (uint32_t i = 0; i < slots; i++)
		keys[i] = i;
	/* Fill the whole ring before it becomes reachable. */
	if (bpf_map_update_elem(ring_fd, &keys[0], &size, BPF_ANY)) {
		err = -errno;
		goto cleanup;
	}
	LIBBPF_OPTS(bpf_map_batch_opts, batch);
	uint32_t count = size;

	if (bpf_map_update_batch(ring_fd, &keys[1], table, &count, &batch) || count != size) {
		/* Older kernels without batch ops on arrays: one by one. */
		for (uint32_t i = 0; i < size; i++) {
			if (bpf_map_update_elem(ring_fd, &keys[i + 1], &table[i], BPF_ANY)) {
				err = -errno;
				goto cleanup;
			}
		}
	}
cleanup:
	free(keys);
	if (err) {
		close(ring_fd);
		return err;
	}
	return ring_fd;
}

int maglev_rings_swap(int rings_fd, const uint32_t *service_ids, const int *ring_fds, uint32_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, batch);
	uint32_t count = n;

	/* One batch: the kernel waits for running programs to let go of the
	 * old rings once (an RCU grace period, milliseconds), not per ring. */
	if (n && bpf_map_update_batch(rings_fd, service_ids, ring_fds, &count, &batch))
		return -errno;
	return 0;
}

int maglev_ring_install(int rings_fd, uint32_t service_id, const uint32_t *table, uint32_t size)
{
	int ring_fd = maglev_ring_create(table, size), err;

	if (ring_fd < 0)
		return ring_fd;
	err = maglev_rings_swap(rings_fd, &service_id, &ring_fd, 1);
	close(ring_fd); /* the outer map holds its own reference */
	return err;
}

int maglev_rings_remove(int rings_fd, const uint32_t *service_ids, uint32_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, batch);
	uint32_t count = n;

	if (n && bpf_map_delete_batch(rings_fd, service_ids, &count, &batch))
		return -errno;
	return 0;
}

int maglev_ring_remove(int rings_fd, uint32_t service_id)
{
	if (bpf_map_delete_elem(rings_fd, &service_id) && errno != ENOENT)
		return -errno;
	return 0;
}
