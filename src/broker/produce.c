/*
 * produce: the Produce API (v3-v7 served; v0-v2 advertised for librdkafka's compression check
 * and answered with UNSUPPORTED_VERSION).
 *
 * Happy path: for each partition, validate the RecordBatch (magic 2, exactly one batch, its
 * length, CRC-32C, size within max.message.bytes), check the idempotent producer's sequence,
 * then append the batch bytes to the partition log zero-copy from the request frame. With
 * acks=1 or -1 the answer goes out when every append is durable (one node: the log's fsync is
 * the commit); with acks=0 nothing is answered, as the protocol requires.
 *
 * Failure modes: each partition gets its own error code (CORRUPT_MESSAGE, INVALID_RECORD,
 * UNSUPPORTED_FOR_MESSAGE_FORMAT, MESSAGE_TOO_LARGE, OUT_OF_ORDER_SEQUENCE_NUMBER,
 * INVALID_PRODUCER_EPOCH, UNKNOWN_TOPIC_OR_PARTITION, KAFKA_STORAGE_ERROR for a full or failed
 * disk, REQUEST_TIMED_OUT under back-pressure); a duplicate of one of the producer's last five
 * batches is answered with the offsets it got the first time and is not stored again.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"
#include "base/slog.h"
#include "broker/internal.h"
#include "kafka/records.h"
#include "raft/cons.h"
#include "storage/batch.h"

struct produce_part {
	struct breq *r;
	struct partition *p;
	struct kafka_produce_response_partition_produce_response *out;
	int64_t pid;
	int64_t base_offset; /* assigned when proposed */
};

struct produce_ctx {
	struct kafka_produce_response resp;
	struct produce_part *parts;
	int nparts;
};

static void produce_finish(struct breq *r)
{
	struct produce_ctx *pc = r->resp;

	if (r->acks != 0)
		breq_respond(r, &pc->resp);
	free(pc->parts);
	breq_free(r);
}

static void produce_commit_cb(void *arg, int status, int64_t base_offset, int64_t last_offset)
{
	struct produce_part *pp = arg;
	struct breq *r = pp->r;

	(void)last_offset;
	if (status == 0) {
		pp->out->error_code = KAFKA_ERR_NONE;
		pp->out->base_offset = base_offset;
	} else {
		/* Leadership lost or the replica stopped: the outcome is unknown (the batch may
		 * still commit under the next leader). The client retries there; an idempotent
		 * producer's retry is recognised as a duplicate if it did commit. */
		pp->out->error_code = broker_storage_error(status);
		pp->out->base_offset = -1;
		/* Forget what the leader recorded for this batch and anything proposed after it:
		 * those that still reach the log are recorded again when Raft applies them. */
		struct partition *p = pp->p;
		if (pp->pid >= 0 && !p->closing && pp->base_offset >= 0) {
			pidstate_truncate(&p->producers, pp->base_offset);
			if (p->pid_end > pp->base_offset)
				p->pid_end = pp->base_offset;
		}
	}
	if (--r->pending == 0)
		produce_finish(r);
}

/* Validates the records of one partition; returns a Kafka error code. On success *h holds the
 * batch header. */
static int16_t validate_batch(const struct kafka_bytes *rec, int32_t max_bytes,
			      struct batch_header *h)
{
	size_t total;

	if (rec->len < 0 || (size_t)rec->len < BATCH_LOG_OVERHEAD + 5)
		return KAFKA_ERR_CORRUPT_MESSAGE;
	if (rec->ptr[16] != BATCH_MAGIC_V2)
		return KAFKA_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
	if (batch_header_decode(rec->ptr, (size_t)rec->len, h) != 0)
		return KAFKA_ERR_CORRUPT_MESSAGE;
	total = batch_total_bytes(h);
	if (total > (size_t)rec->len)
		return KAFKA_ERR_CORRUPT_MESSAGE;
	if (total < (size_t)rec->len)
		return KAFKA_ERR_INVALID_RECORD; /* v2 allows exactly one batch per partition */
	if (total > (size_t)max_bytes)
		return KAFKA_ERR_MESSAGE_TOO_LARGE;
	/* CRC, then for uncompressed batches every record: count, offset deltas, lengths. */
	int rc = records_validate(rec->ptr, total, NULL, NULL);
	if (rc != 0)
		return records_kafka_error(rc);
	if (h->attributes & BATCH_ATTR_CONTROL)
		return KAFKA_ERR_INVALID_RECORD; /* control batches come only from the broker */
	if (h->attributes & BATCH_ATTR_TRANSACTIONAL)
		return KAFKA_ERR_INVALID_RECORD; /* transactions are not supported */
	return KAFKA_ERR_NONE;
}

static int32_t topic_max_bytes(const struct broker *b, const struct partition *p)
{
	const char *v = topic_config_get(p->topic, "max.message.bytes");
	return v != NULL ? (int32_t)strtol(v, NULL, 10) : b->cfg.message_max_bytes;
}

static bool log_append_time(const struct partition *p)
{
	const char *v = topic_config_get(p->topic, "message.timestamp.type");
	return v != NULL && strcmp(v, "LogAppendTime") == 0;
}

void handle_produce(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_produce_request *req = r->body;
	struct produce_ctx *pc = breq_alloc(r, sizeof *pc);
	int32_t ntopics = req->topic_data.n < 0 ? 0 : req->topic_data.n;
	int total = 0, k = 0;
	bool supported = r->h.api_version >= 3;
	bool acks_ok = req->acks == 0 || req->acks == 1 || req->acks == -1;

	if (pc == NULL)
		goto err_oom;
	r->resp = pc;
	r->acks = supported && acks_ok ? req->acks : 1; /* errors are always answered */
	kafka_struct_defaults(&kafka_produce_response_desc, &pc->resp);
	pc->resp.responses.v = breq_alloc_structs(
		r, &kafka_produce_response_topic_produce_response_desc, ntopics);
	if (pc->resp.responses.v == NULL)
		goto err_oom;
	pc->resp.responses.n = ntopics;
	for (int32_t i = 0; i < ntopics; i++)
		total += req->topic_data.v[i].partition_data.n < 0
				 ? 0
				 : req->topic_data.v[i].partition_data.n;
	pc->parts = calloc((size_t)total + 1, sizeof *pc->parts);
	if (pc->parts == NULL)
		goto err_oom;
	r->pending = 1; /* held until every append is started */
	for (int32_t i = 0; i < ntopics; i++) {
		struct kafka_produce_request_topic_produce_data *td = &req->topic_data.v[i];
		struct kafka_produce_response_topic_produce_response *tr = &pc->resp.responses.v[i];
		int32_t np = td->partition_data.n < 0 ? 0 : td->partition_data.n;
		tr->name = td->name;
		tr->partition_responses.v = breq_alloc_structs(
			r, &kafka_produce_response_partition_produce_response_desc, np);
		if (tr->partition_responses.v == NULL)
			goto err_oom_parts;
		tr->partition_responses.n = np;
		for (int32_t j = 0; j < np; j++) {
			struct kafka_produce_request_partition_produce_data *pd =
				&td->partition_data.v[j];
			struct kafka_produce_response_partition_produce_response *out =
				&tr->partition_responses.v[j];
			struct produce_part *pp = &pc->parts[k++];
			struct batch_header h;
			struct partition *p;
			int16_t err;

			out->index = pd->index;
			out->base_offset = -1;
			out->error_message = kafka_str_null();
			pp->r = r;
			pp->out = out;
			pp->pid = -1;
			if (!supported) {
				out->error_code = KAFKA_ERR_UNSUPPORTED_VERSION;
				continue;
			}
			if (!acks_ok) {
				out->error_code = KAFKA_ERR_INVALID_REQUIRED_ACKS;
				continue;
			}
			p = broker_partition(b, td->name, pd->index, &err);
			if (p == NULL) {
				out->error_code = err;
				continue;
			}
			out->log_start_offset = plog_start_offset(p->log);
			err = validate_batch(&pd->records, topic_max_bytes(b, p), &h);
			if (err != KAFKA_ERR_NONE) {
				out->error_code = err;
				SLOG_DEBUG(MOD, "msg=\"produce rejected\" topic=%.*s partition=%d "
						"error=%s",
					   (int)td->name.len, td->name.ptr, pd->index,
					   kafka_err_name(err));
				continue;
			}
			if (h.producer_id >= 0) {
				struct pidstate_batch dup;
				int32_t last_seq = h.base_sequence + h.last_offset_delta;
				enum pidstate_verdict v = pidstate_check(
					&p->producers, h.producer_id, h.producer_epoch,
					h.base_sequence, last_seq, &dup);
				if (v == PIDSTATE_DUPLICATE) {
					out->error_code = KAFKA_ERR_NONE;
					out->base_offset = dup.base_offset;
					continue;
				}
				if (v == PIDSTATE_OUT_OF_ORDER) {
					out->error_code = KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
					continue;
				}
				if (v == PIDSTATE_FENCED) {
					out->error_code = KAFKA_ERR_INVALID_PRODUCER_EPOCH;
					continue;
				}
			}
			if (log_append_time(p)) {
				/* LogAppendTime: the broker's clock stamps the batch. */
				int64_t now = clock_wall_ms(b->clock);
				uint8_t *bp = (uint8_t *)pd->records.ptr;
				be16_put(bp + 21, (uint16_t)(h.attributes | BATCH_ATTR_TIMESTAMP_LOG_APPEND));
				be64_put(bp + 35, (uint64_t)now);
				batch_set_crc(bp, batch_total_bytes(&h));
				out->log_append_time_ms = now;
			}
			pp->p = p;
			int64_t base_offset, last_offset;
			int rv = cons_propose(p->group, pd->records.ptr, (size_t)pd->records.len,
					      r->acks == 1 ? CONS_WAIT_LOCAL : CONS_WAIT_COMMIT,
					      produce_commit_cb, pp, &base_offset, &last_offset);
			if (rv != 0) {
				/* EBUSY (a membership change being committed, or too much queued) gets
				 * a retriable error that tells the client the batch was not appended:
				 * REQUEST_TIMED_OUT would make an idempotent producer treat it as
				 * possibly persisted and fail its next batch as out of order. */
				out->error_code = rv == SLUICE_EBUSY ? KAFKA_ERR_NOT_ENOUGH_REPLICAS
								     : broker_storage_error(rv);
				if (rv != SLUICE_EBUSY && rv != SLUICE_ENOTLEADER)
					SLOG_WARN(MOD, "msg=\"append refused\" topic=%.*s "
						       "partition=%d err=\"%s\"",
						  (int)td->name.len, td->name.ptr, pd->index,
						  err_str(rv));
				continue;
			}
			pp->base_offset = base_offset;
			if (h.producer_id >= 0) {
				pp->pid = h.producer_id;
				pidstate_record(&p->producers, h.producer_id, h.producer_epoch,
						h.base_sequence,
						h.base_sequence + h.last_offset_delta, base_offset,
						last_offset);
				if (p->pid_end <= last_offset)
					p->pid_end = last_offset + 1;
			}
			r->pending++;
		}
	}
	if (r->acks == 0) {
		/* No response at all (the client does not read one), but the request stays
		 * alive until its appends complete. */
		net_conn_no_response(r->conn, r->seq);
		r->responded = true;
	}
	if (--r->pending == 0)
		produce_finish(r);
	return;

err_oom_parts:
	if (r->pending > 1) {
		/* Appends already started: let them finish, then answer what we have. */
		net_conn_close(r->conn, "out of memory in Produce");
		r->acks = 0;
		r->responded = true;
		if (--r->pending == 0)
			produce_finish(r);
		return;
	}
	free(pc->parts);
err_oom:
	net_conn_close(r->conn, "out of memory in Produce");
	breq_free(r);
}
