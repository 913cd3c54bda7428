/*
 * fetch: the Fetch (v4-v11) and ListOffsets (v1-v3) APIs.
 *
 * Fetch reads whole batches from each requested partition up to its high watermark, within
 * partition_max_bytes and the request's max_bytes, returning at least one whole batch for the
 * first partition that has data even if it is larger (KIP-74). If fewer than min_bytes are
 * available it parks: a waiter on every requested partition and a timer for max_wait_ms (capped
 * by BROKER_FETCH_WAIT_MS_MAX); whichever comes first makes it build the answer again and reply.
 * last_stable_offset is the high watermark (no transactions) and preferred_read_replica -1.
 * Sessions (KIP-227) are not kept: every answer has session_id 0, which clients treat as
 * sessionless and answer with full fetches.
 *
 * ListOffsets: -1 is the high watermark, -2 the log start, a timestamp the first record whose
 * timestamp is at least that (compressed batches are inflated to find it, up to 64 MiB; beyond
 * that, or if inflating fails, the batch's first offset), or offset -1 when none is.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"
#include "base/slog.h"
#include "broker/internal.h"
#include "kafka/compress.h"
#include "kafka/records.h"
#include "storage/batch.h"

static int keep_buf(struct breq *r, struct buf *b)
{
	if (r->nbufs == r->bufs_cap) {
		int ncap = r->bufs_cap ? r->bufs_cap * 2 : 8;
		struct buf **v = realloc(r->bufs, (size_t)ncap * sizeof *v);
		if (v == NULL)
			return SLUICE_ENOMEM;
		r->bufs = v;
		r->bufs_cap = ncap;
	}
	r->bufs[r->nbufs++] = b;
	return 0;
}

static void release_bufs(struct breq *r)
{
	for (int i = 0; i < r->nbufs; i++)
		buf_unref(r->bufs[i]);
	r->nbufs = 0;
}

/* True when every batch in [p, p+n) holds no record a client would see (compaction leaves
 * empty batches behind to keep offsets contiguous; Raft's control batches carry none either). */
static bool only_empty_batches(const uint8_t *p, size_t n)
{
	struct batch_header h;

	for (size_t at = 0; at < n; at += batch_total_bytes(&h))
		if (batch_header_decode(p + at, n - at, &h) != 0 ||
		    (h.record_count > 0 && !(h.attributes & BATCH_ATTR_CONTROL)))
			return false;
	return true;
}

/* Raft's own entries sit in the log as control batches (docs/replication.md). Modern clients
 * skip control batches, but some (Debian's kafka-python 2.0.2) hand their records to the
 * application as messages. So Fetch serves each control batch as what compaction leaves: an
 * empty batch over the same offsets (RecordCount 0, not control, CRC recomputed), which every
 * client steps over. Replaces out->buf only when the data holds a control batch. */
static int hide_control_batches(struct plog_read_result *out)
{
	struct batch_header h;
	size_t n = out->len, shrink = 0;
	const uint8_t *p = out->buf->data;

	for (size_t at = 0; at < n; at += batch_total_bytes(&h)) {
		if (batch_header_decode(p + at, n - at, &h) != 0)
			return 0; /* plog returns whole batches; leave anything odd as it is */
		if (h.attributes & BATCH_ATTR_CONTROL)
			shrink += batch_total_bytes(&h) - BATCH_HEADER_BYTES;
	}
	if (shrink == 0)
		return 0;
	struct buf *nb = buf_new(n - shrink);
	if (nb == NULL)
		return SLUICE_ENOMEM;
	uint8_t *w = nb->data;
	for (size_t at = 0; at < n; at += batch_total_bytes(&h)) {
		batch_header_decode(p + at, n - at, &h);
		size_t total = batch_total_bytes(&h);
		if (!(h.attributes & BATCH_ATTR_CONTROL)) {
			memcpy(w, p + at, total);
			w += total;
			continue;
		}
		memcpy(w, p + at, BATCH_HEADER_BYTES);
		be32_put(w + BATCH_LENGTH_OFFSET, BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD);
		be16_put(w + 21, (uint16_t)(h.attributes & ~BATCH_ATTR_CONTROL));
		be32_put(w + 57, 0); /* RecordCount */
		batch_set_crc(w, BATCH_HEADER_BYTES);
		w += BATCH_HEADER_BYTES;
	}
	nb->len = (size_t)(w - nb->data);
	buf_unref(out->buf);
	out->buf = nb;
	out->len = nb->len;
	return 0;
}

/* Reads like plog_read, but when what it found holds only empty batches (a fully compacted
 * stretch, possibly whole segments), keeps reading so that the answer also carries the next
 * records within `limit`. librdkafka reports a false MSG_SIZE_TOO_LARGE after about ten
 * answers in a row that advance only through empty batches. Bounded to FETCH_EMPTY_READS_MAX
 * reads. */
#define FETCH_EMPTY_READS_MAX 64
static int read_past_empty(struct partition *p, int64_t offset, size_t limit,
			   struct plog_read_result *out)
{
	int rv = plog_read(p->log, offset, p->hw, limit, out);

	for (int i = 0; rv == 0 && i < FETCH_EMPTY_READS_MAX; i++) {
		struct plog_read_result more;
		struct buf *joined;

		if (out->len == 0 || out->len >= limit || out->next_offset >= p->hw ||
		    !only_empty_batches(out->buf->data, out->len))
			break;
		if (plog_read(p->log, out->next_offset, p->hw, limit - out->len, &more) != 0 ||
		    more.len == 0)
			break;
		joined = buf_new(out->len + more.len);
		if (joined == NULL) {
			buf_unref(more.buf);
			break;
		}
		memcpy(joined->data, out->buf->data, out->len);
		memcpy(joined->data + out->len, more.buf->data, more.len);
		joined->len = out->len + more.len;
		buf_unref(out->buf);
		buf_unref(more.buf);
		out->buf = joined;
		out->len = joined->len;
		out->next_offset = more.next_offset;
	}
	return rv;
}

/* Builds the Fetch response from what the logs hold now. Returns the record bytes gathered, or
 * a negative code on OOM. *any_error tells whether some partition carries an error. */
static int64_t build_fetch(struct breq *r, struct kafka_fetch_response *resp, bool *any_error)
{
	struct broker *b = r->b;
	struct kafka_fetch_request *req = r->body;
	int32_t ntopics = req->topics.n < 0 ? 0 : req->topics.n;
	int64_t budget = req->max_bytes > 0 ? req->max_bytes : INT32_MAX;
	int64_t gathered = 0;

	release_bufs(r);
	*any_error = false;
	kafka_struct_defaults(&kafka_fetch_response_desc, resp);
	resp->error_code = KAFKA_ERR_NONE;
	resp->session_id = 0;
	resp->responses.v = breq_alloc_structs(
		r, &kafka_fetch_response_fetchable_topic_response_desc, ntopics);
	if (resp->responses.v == NULL)
		return SLUICE_ENOMEM;
	resp->responses.n = ntopics;
	for (int32_t i = 0; i < ntopics; i++) {
		struct kafka_fetch_request_fetch_topic *ft = &req->topics.v[i];
		struct kafka_fetch_response_fetchable_topic_response *tr = &resp->responses.v[i];
		int32_t np = ft->partitions.n < 0 ? 0 : ft->partitions.n;
		tr->topic = ft->topic;
		tr->partitions.v = breq_alloc_structs(
			r, &kafka_fetch_response_partition_data_desc, np);
		if (tr->partitions.v == NULL)
			return SLUICE_ENOMEM;
		tr->partitions.n = np;
		for (int32_t j = 0; j < np; j++) {
			struct kafka_fetch_request_fetch_partition *fp = &ft->partitions.v[j];
			struct kafka_fetch_response_partition_data *out = &tr->partitions.v[j];
			struct plog_read_result rd;
			struct partition *p;
			int16_t err;
			int64_t limit;
			int rv;

			out->partition_index = fp->partition;
			out->high_watermark = -1;
			out->last_stable_offset = -1;
			out->log_start_offset = -1;
			out->aborted_transactions.n = -1;
			out->preferred_read_replica = -1;
			out->records.ptr = NULL;
			out->records.len = 0;
			p = broker_partition_read(b, ft->topic, fp->partition, &err);
			if (p == NULL) {
				out->error_code = err;
				*any_error = true;
				continue;
			}
			out->high_watermark = p->hw;
			out->last_stable_offset = p->hw;
			out->log_start_offset = plog_start_offset(p->log);
			limit = fp->partition_max_bytes < budget ? fp->partition_max_bytes : budget;
			/* Out of range is below the log start or beyond the log end; between the
			 * high watermark and the end (appended, not yet durable) there is simply
			 * nothing to read yet, as Kafka answers. */
			if (fp->fetch_offset < out->log_start_offset ||
			    fp->fetch_offset > plog_end_offset(p->log)) {
				out->error_code = KAFKA_ERR_OFFSET_OUT_OF_RANGE;
				*any_error = true;
				continue;
			}
			if (fp->fetch_offset >= p->hw || limit <= 0) {
				out->error_code = KAFKA_ERR_NONE;
				continue;
			}
			rv = read_past_empty(p, fp->fetch_offset, (size_t)limit, &rd);
			if (rv == 0 && rd.len > 0 && hide_control_batches(&rd) != 0) {
				buf_unref(rd.buf);
				return SLUICE_ENOMEM;
			}
			if (rv != 0) {
				out->error_code = broker_storage_error(rv);
				*any_error = true;
				continue;
			}
			out->error_code = KAFKA_ERR_NONE;
			if (rd.len == 0)
				continue;
			/* Over the budget: only the first data of the response may exceed it. */
			if ((int64_t)rd.len > limit && gathered > 0) {
				buf_unref(rd.buf);
				continue;
			}
			if (keep_buf(r, rd.buf) != 0) {
				buf_unref(rd.buf);
				return SLUICE_ENOMEM;
			}
			out->records.ptr = rd.buf->data;
			out->records.len = (int32_t)rd.len;
			gathered += (int64_t)rd.len;
			budget -= (int64_t)rd.len;
		}
	}
	return gathered;
}

static void fetch_wake(struct partition_waiter *w)
{
	broker_schedule_ready(w->data);
}

static void fetch_timer_cb(uv_timer_t *t)
{
	struct breq *r = t->data;

	r->timer_on = false;
	broker_schedule_ready(r);
}

static void fetch_timer_closed_cb(uv_handle_t *h)
{
	struct breq *r = h->data;

	breq_free(r);
}

static void unpark(struct breq *r)
{
	struct broker *b = r->b;

	for (int i = 0; i < r->nwaiters; i++)
		partition_unwait(&r->waiters[i]);
	r->nwaiters = 0;
	if (r->prev_parked != NULL)
		r->prev_parked->next_parked = r->next_parked;
	else if (b->parked == r)
		b->parked = r->next_parked;
	if (r->next_parked != NULL)
		r->next_parked->prev_parked = r->prev_parked;
	r->prev_parked = r->next_parked = NULL;
}

/* Answers `r` now and releases it (the timer handle is closed first). */
static void fetch_answer(struct breq *r, struct kafka_fetch_response *resp)
{
	breq_respond(r, resp);
	release_bufs(r);
	if (r->timer.data == r) {
		uv_timer_stop(&r->timer);
		uv_close((uv_handle_t *)&r->timer, fetch_timer_closed_cb);
		return;
	}
	breq_free(r);
}

void fetch_complete_parked(struct breq *r)
{
	struct kafka_fetch_request *req = r->body;
	struct kafka_fetch_response resp;
	bool any_error;
	int64_t got;

	/* A wake can come after the request was already answered (several partitions moved in
	 * one turn, or shutdown); ready is cleared only while it stays parked. */
	r->ready = false;
	got = build_fetch(r, &resp, &any_error);
	if (got < 0) {
		unpark(r);
		net_conn_close(r->conn, "out of memory in Fetch");
		release_bufs(r);
		uv_close((uv_handle_t *)&r->timer, fetch_timer_closed_cb);
		return;
	}
	if (got < req->min_bytes && !any_error && r->timer_on && !r->b->stopping)
		return; /* still below min_bytes and time is left */
	unpark(r);
	fetch_answer(r, &resp);
}

void handle_fetch(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_fetch_request *req = r->body;
	struct kafka_fetch_response resp;
	bool any_error;
	int64_t got = build_fetch(r, &resp, &any_error);
	int32_t wait_ms = req->max_wait_ms;
	int n = 0;

	if (got < 0)
		goto err_oom;
	if (got >= req->min_bytes || any_error || wait_ms <= 0 || b->stopping) {
		fetch_answer(r, &resp);
		return;
	}
	/* Park: wait on every requested partition. */
	release_bufs(r);
	for (int32_t i = 0; i < req->topics.n; i++)
		n += req->topics.v[i].partitions.n < 0 ? 0 : req->topics.v[i].partitions.n;
	r->waiters = breq_alloc(r, sizeof *r->waiters * (size_t)(n > 0 ? n : 1));
	if (r->waiters == NULL)
		goto err_oom;
	for (int32_t i = 0; i < req->topics.n; i++) {
		struct kafka_fetch_request_fetch_topic *ft = &req->topics.v[i];
		for (int32_t j = 0; j < ft->partitions.n; j++) {
			int16_t err;
			struct partition *p = broker_partition(b, ft->topic,
							       ft->partitions.v[j].partition, &err);
			if (p == NULL)
				continue;
			struct partition_waiter *w = &r->waiters[r->nwaiters++];
			w->offset = ft->partitions.v[j].fetch_offset;
			w->wake = fetch_wake;
			w->data = r;
			partition_wait(p, w);
		}
	}
	if (wait_ms > BROKER_FETCH_WAIT_MS_MAX)
		wait_ms = BROKER_FETCH_WAIT_MS_MAX;
	uv_timer_init(b->loop, &r->timer);
	r->timer.data = r;
	uv_timer_start(&r->timer, fetch_timer_cb, (uint64_t)wait_ms, 0);
	r->timer_on = true;
	r->next_parked = b->parked;
	if (b->parked != NULL)
		b->parked->prev_parked = r;
	b->parked = r;
	return;

err_oom:
	net_conn_close(r->conn, "out of memory in Fetch");
	breq_free(r);
}

/* ---- ListOffsets -------------------------------------------------------------------------- */

/* The most a compressed batch may inflate to when ListOffsets looks inside it: far above what the
 * default 1 MiB message.max.bytes compresses, yet a bound on the memory one lookup costs, so a
 * decompression bomb in the log cannot exhaust the node. */
#define LIST_OFFSETS_INFLATE_BYTES_MAX ((size_t)64 << 20)

/* Refines a timestamp lookup inside one batch: the offset of its first record whose timestamp is
 * >= ts, as Kafka answers. A compressed batch is inflated first (compress_inflate_batch, bounded by
 * LIST_OFFSETS_INFLATE_BYTES_MAX; the CRC-less copy lives only in this function). If that fails
 * (too large, corrupt) or the records do not parse, *offset and *found_ts keep what the caller put
 * there (the batch's BaseOffset and MaxTimestamp), an answer that skips no record. */
static void refine_in_batch(const uint8_t *p, size_t n, int64_t ts, int64_t *offset,
			    int64_t *found_ts)
{
	struct records_iter it;
	struct records_record rec;
	struct buf *inflated = NULL;
	errmsg_t msg = "";

	if (n > BATCH_HEADER_BYTES && (be16_get(p + 21) & BATCH_ATTR_TIMESTAMP_LOG_APPEND))
		return; /* every record carries the batch's append time */
	if (n > BATCH_HEADER_BYTES && (be16_get(p + 21) & BATCH_ATTR_COMPRESSION_MASK)) {
		int rc = compress_inflate_batch(p, n, LIST_OFFSETS_INFLATE_BYTES_MAX, &inflated,
						msg);
		if (rc != 0) {
			SLOG_DEBUG(MOD, "msg=\"cannot inflate batch\" err=%s reason=\"%s\"",
				   err_name(rc), msg);
			return;
		}
		p = inflated->data;
		n = inflated->len;
	}
	if (records_iter_init(&it, p, n) != 0)
		goto out_unref;
	while (records_iter_next(&it, &rec) == 1) {
		if (rec.timestamp >= ts) {
			*offset = rec.offset;
			*found_ts = rec.timestamp;
			goto out_unref;
		}
	}
out_unref:
	buf_unref(inflated);
}

static void list_offset_one(struct broker *b, struct partition *p, int64_t ts,
			    struct kafka_list_offsets_response_list_offsets_partition_response *out)
{
	int64_t off, found;
	int rv;

	(void)b;
	out->error_code = KAFKA_ERR_NONE;
	if (ts == -1) { /* latest */
		out->offset = p->hw;
		out->timestamp = -1;
		return;
	}
	if (ts == -2) { /* earliest */
		out->offset = plog_start_offset(p->log);
		out->timestamp = -1;
		return;
	}
	if (ts < 0) {
		out->error_code = KAFKA_ERR_INVALID_REQUEST;
		return;
	}
	rv = plog_offset_for_time(p->log, ts, &off, &found);
	if (rv == SLUICE_ENOTFOUND || (rv == 0 && off >= p->hw)) {
		out->offset = -1;
		out->timestamp = -1;
		return;
	}
	if (rv != 0) {
		out->error_code = broker_storage_error(rv);
		return;
	}
	struct plog_read_result rd;
	if (plog_read(p->log, off, p->hw, 1, &rd) == 0 && rd.len > 0) {
		refine_in_batch(rd.buf->data, rd.len, ts, &off, &found);
		buf_unref(rd.buf);
	}
	out->offset = off;
	out->timestamp = found;
}

void handle_list_offsets(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_list_offsets_request *req = r->body;
	struct kafka_list_offsets_response resp;
	int32_t nt = req->topics.n < 0 ? 0 : req->topics.n;

	kafka_struct_defaults(&kafka_list_offsets_response_desc, &resp);
	resp.topics.v = breq_alloc_structs(
		r, &kafka_list_offsets_response_list_offsets_topic_response_desc, nt);
	if (resp.topics.v == NULL)
		goto err_oom;
	resp.topics.n = nt;
	for (int32_t i = 0; i < nt; i++) {
		struct kafka_list_offsets_request_list_offsets_topic *t = &req->topics.v[i];
		struct kafka_list_offsets_response_list_offsets_topic_response *tr = &resp.topics.v[i];
		int32_t np = t->partitions.n < 0 ? 0 : t->partitions.n;
		tr->name = t->name;
		tr->partitions.v = breq_alloc_structs(
			r, &kafka_list_offsets_response_list_offsets_partition_response_desc, np);
		if (tr->partitions.v == NULL)
			goto err_oom;
		tr->partitions.n = np;
		for (int32_t j = 0; j < np; j++) {
			struct kafka_list_offsets_response_list_offsets_partition_response *out =
				&tr->partitions.v[j];
			int16_t err;
			struct partition *p = broker_partition_read(
				b, t->name, t->partitions.v[j].partition_index, &err);
			out->partition_index = t->partitions.v[j].partition_index;
			out->old_style_offsets.n = 0;
			if (p == NULL) {
				out->error_code = err;
				continue;
			}
			list_offset_one(b, p, t->partitions.v[j].timestamp, out);
		}
	}
	breq_respond(r, &resp);
	breq_free(r);
	return;

err_oom:
	net_conn_close(r->conn, "out of memory in ListOffsets");
	breq_free(r);
}
