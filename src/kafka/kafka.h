/*
 * kafka: the Kafka wire protocol, pure (no I/O, no event loop), so it can be unit-tested and
 * fuzzed on its own.
 *
 * Happy path for a broker: net hands over a frame (size prefix stripped);
 * kafka_request_header_decode() reads the request header and says where the body starts;
 * the broker checks kafka_api_find()/kafka_version_supported() and answers UNSUPPORTED_VERSION
 * itself when the version is out of range; kafka_request_decode() fills the message struct
 * (messages.h) with arrays in a per-request arena and strings and records pointing into the
 * frame; the handler fills a response struct and kafka_response_encode() writes the response
 * header and body into a wbuf (net adds the size prefix). Clients (the CLI, tests) use
 * kafka_request_encode() and kafka_response_decode().
 *
 * One generic codec walks the descriptor tables of messages.c, so every message is described
 * once. Flexible versions (KIP-482) use compact strings, arrays and bytes (unsigned varint N+1),
 * a tagged-field section at the end of every struct, request header v2 and response header v1;
 * the ApiVersions response always uses response header v0 (KIP-511).
 *
 * Failure modes: malformed or truncated input returns SLUICE_EMALFORMED and never reads outside
 * the frame; an array count larger than the bytes left could hold is malformed, and the arena's
 * limit returns SLUICE_ENOMEM, so a tiny frame cannot make us allocate much. An unknown API key
 * returns SLUICE_ENOTFOUND, a version outside the table SLUICE_EVERSION. Unknown tagged fields
 * are skipped. Encoding a value that cannot be represented (a null where the version does not
 * allow it, a string longer than 32767 bytes in a non-flexible version) returns SLUICE_EINVAL.
 *
 * Request header (RequestHeader.json), all versions big-endian:
 *   field            v1                v2 (flexible APIs/versions)
 *   RequestApiKey    int16             int16
 *   RequestApiVersion int16            int16
 *   CorrelationId    int32             int32
 *   ClientId         nullable string   nullable string (int16 length, never compact)
 *   tagged fields    -                 unsigned varint count, then tag/size/bytes
 * Response header: v0 = CorrelationId int32; v1 = CorrelationId, tagged fields.
 */
#ifndef SLUICE_KAFKA_KAFKA_H
#define SLUICE_KAFKA_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "kafka/arena.h"
#include "kafka/messages.h"

/* Kafka's error codes (Errors.java), X(name, code). */
#define KAFKA_ERR_MAP(X)                                                                           \
	X(UNKNOWN_SERVER_ERROR, -1)                                                                \
	X(NONE, 0)                                                                                 \
	X(OFFSET_OUT_OF_RANGE, 1)                                                                  \
	X(CORRUPT_MESSAGE, 2)                                                                      \
	X(UNKNOWN_TOPIC_OR_PARTITION, 3)                                                           \
	X(INVALID_FETCH_SIZE, 4)                                                                   \
	X(LEADER_NOT_AVAILABLE, 5)                                                                 \
	X(NOT_LEADER_OR_FOLLOWER, 6)                                                               \
	X(REQUEST_TIMED_OUT, 7)                                                                    \
	X(BROKER_NOT_AVAILABLE, 8)                                                                 \
	X(REPLICA_NOT_AVAILABLE, 9)                                                                \
	X(MESSAGE_TOO_LARGE, 10)                                                                   \
	X(STALE_CONTROLLER_EPOCH, 11)                                                              \
	X(OFFSET_METADATA_TOO_LARGE, 12)                                                           \
	X(NETWORK_EXCEPTION, 13)                                                                   \
	X(COORDINATOR_LOAD_IN_PROGRESS, 14)                                                        \
	X(COORDINATOR_NOT_AVAILABLE, 15)                                                           \
	X(NOT_COORDINATOR, 16)                                                                     \
	X(INVALID_TOPIC_EXCEPTION, 17)                                                             \
	X(RECORD_LIST_TOO_LARGE, 18)                                                               \
	X(NOT_ENOUGH_REPLICAS, 19)                                                                 \
	X(NOT_ENOUGH_REPLICAS_AFTER_APPEND, 20)                                                    \
	X(INVALID_REQUIRED_ACKS, 21)                                                               \
	X(ILLEGAL_GENERATION, 22)                                                                  \
	X(INCONSISTENT_GROUP_PROTOCOL, 23)                                                         \
	X(INVALID_GROUP_ID, 24)                                                                    \
	X(UNKNOWN_MEMBER_ID, 25)                                                                   \
	X(INVALID_SESSION_TIMEOUT, 26)                                                             \
	X(REBALANCE_IN_PROGRESS, 27)                                                               \
	X(INVALID_COMMIT_OFFSET_SIZE, 28)                                                          \
	X(TOPIC_AUTHORIZATION_FAILED, 29)                                                          \
	X(GROUP_AUTHORIZATION_FAILED, 30)                                                          \
	X(CLUSTER_AUTHORIZATION_FAILED, 31)                                                        \
	X(INVALID_TIMESTAMP, 32)                                                                   \
	X(UNSUPPORTED_SASL_MECHANISM, 33)                                                          \
	X(ILLEGAL_SASL_STATE, 34)                                                                  \
	X(UNSUPPORTED_VERSION, 35)                                                                 \
	X(TOPIC_ALREADY_EXISTS, 36)                                                                \
	X(INVALID_PARTITIONS, 37)                                                                  \
	X(INVALID_REPLICATION_FACTOR, 38)                                                          \
	X(INVALID_REPLICA_ASSIGNMENT, 39)                                                          \
	X(INVALID_CONFIG, 40)                                                                      \
	X(NOT_CONTROLLER, 41)                                                                      \
	X(INVALID_REQUEST, 42)                                                                     \
	X(UNSUPPORTED_FOR_MESSAGE_FORMAT, 43)                                                      \
	X(POLICY_VIOLATION, 44)                                                                    \
	X(OUT_OF_ORDER_SEQUENCE_NUMBER, 45)                                                        \
	X(DUPLICATE_SEQUENCE_NUMBER, 46)                                                           \
	X(INVALID_PRODUCER_EPOCH, 47)                                                              \
	X(INVALID_TXN_STATE, 48)                                                                   \
	X(INVALID_PRODUCER_ID_MAPPING, 49)                                                         \
	X(INVALID_TRANSACTION_TIMEOUT, 50)                                                         \
	X(CONCURRENT_TRANSACTIONS, 51)                                                             \
	X(TRANSACTION_COORDINATOR_FENCED, 52)                                                      \
	X(TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 53)                                               \
	X(SECURITY_DISABLED, 54)                                                                   \
	X(OPERATION_NOT_ATTEMPTED, 55)                                                             \
	X(KAFKA_STORAGE_ERROR, 56)                                                                 \
	X(LOG_DIR_NOT_FOUND, 57)                                                                   \
	X(SASL_AUTHENTICATION_FAILED, 58)                                                          \
	X(UNKNOWN_PRODUCER_ID, 59)                                                                 \
	X(REASSIGNMENT_IN_PROGRESS, 60)                                                            \
	X(DELEGATION_TOKEN_AUTH_DISABLED, 61)                                                      \
	X(DELEGATION_TOKEN_NOT_FOUND, 62)                                                          \
	X(DELEGATION_TOKEN_OWNER_MISMATCH, 63)                                                     \
	X(DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, 64)                                                \
	X(DELEGATION_TOKEN_AUTHORIZATION_FAILED, 65)                                               \
	X(DELEGATION_TOKEN_EXPIRED, 66)                                                            \
	X(INVALID_PRINCIPAL_TYPE, 67)                                                              \
	X(NON_EMPTY_GROUP, 68)                                                                     \
	X(GROUP_ID_NOT_FOUND, 69)                                                                  \
	X(FETCH_SESSION_ID_NOT_FOUND, 70)                                                          \
	X(INVALID_FETCH_SESSION_EPOCH, 71)                                                         \
	X(LISTENER_NOT_FOUND, 72)                                                                  \
	X(TOPIC_DELETION_DISABLED, 73)                                                             \
	X(FENCED_LEADER_EPOCH, 74)                                                                 \
	X(UNKNOWN_LEADER_EPOCH, 75)                                                                \
	X(UNSUPPORTED_COMPRESSION_TYPE, 76)                                                        \
	X(STALE_BROKER_EPOCH, 77)                                                                  \
	X(OFFSET_NOT_AVAILABLE, 78)                                                                \
	X(MEMBER_ID_REQUIRED, 79)                                                                  \
	X(PREFERRED_LEADER_NOT_AVAILABLE, 80)                                                      \
	X(GROUP_MAX_SIZE_REACHED, 81)                                                              \
	X(FENCED_INSTANCE_ID, 82)                                                                  \
	X(ELIGIBLE_LEADERS_NOT_AVAILABLE, 83)                                                      \
	X(ELECTION_NOT_NEEDED, 84)                                                                 \
	X(NO_REASSIGNMENT_IN_PROGRESS, 85)                                                         \
	X(GROUP_SUBSCRIBED_TO_TOPIC, 86)                                                           \
	X(INVALID_RECORD, 87)                                                                      \
	X(UNSTABLE_OFFSET_COMMIT, 88)                                                              \
	X(THROTTLING_QUOTA_EXCEEDED, 89)                                                           \
	X(PRODUCER_FENCED, 90)                                                                     \
	X(RESOURCE_NOT_FOUND, 91)                                                                  \
	X(DUPLICATE_RESOURCE, 92)                                                                  \
	X(UNACCEPTABLE_CREDENTIAL, 93)                                                             \
	X(INCONSISTENT_VOTER_SET, 94)                                                              \
	X(INVALID_UPDATE_VERSION, 95)                                                              \
	X(FEATURE_UPDATE_FAILED, 96)                                                               \
	X(PRINCIPAL_DESERIALIZATION_FAILURE, 97)                                                   \
	X(SNAPSHOT_NOT_FOUND, 98)                                                                  \
	X(UNKNOWN_TOPIC_ID, 100)                                                                   \
	X(DUPLICATE_BROKER_REGISTRATION, 101)                                                      \
	X(BROKER_ID_NOT_REGISTERED, 102)                                                           \
	X(INCONSISTENT_TOPIC_ID, 103)                                                              \
	X(INCONSISTENT_CLUSTER_ID, 104)                                                            \
	X(TRANSACTIONAL_ID_NOT_FOUND, 105)                                                         \
	X(FETCH_SESSION_TOPIC_ID_ERROR, 106)                                                       \
	X(INELIGIBLE_REPLICA, 107)                                                                 \
	X(NEW_LEADER_ELECTED, 108)                                                                 \
	X(OFFSET_MOVED_TO_TIERED_STORAGE, 109)                                                     \
	X(FENCED_MEMBER_EPOCH, 110)                                                                \
	X(UNRELEASED_INSTANCE_ID, 111)                                                             \
	X(UNSUPPORTED_ASSIGNOR, 112)                                                               \
	X(STALE_MEMBER_EPOCH, 113)                                                                 \
	X(MISMATCHED_ENDPOINT_TYPE, 114)                                                           \
	X(UNSUPPORTED_ENDPOINT_TYPE, 115)                                                          \
	X(UNKNOWN_CONTROLLER_ID, 116)                                                              \
	X(UNKNOWN_SUBSCRIPTION_ID, 117)                                                            \
	X(TELEMETRY_TOO_LARGE, 118)                                                                \
	X(INVALID_REGISTRATION, 119)                                                               \
	X(TRANSACTION_ABORTABLE, 120)                                                              \
	X(INVALID_RECORD_STATE, 121)                                                               \
	X(SHARE_SESSION_NOT_FOUND, 122)                                                            \
	X(INVALID_SHARE_SESSION_EPOCH, 123)                                                        \
	X(FENCED_STATE_EPOCH, 124)                                                                 \
	X(INVALID_VOTER_KEY, 125)                                                                  \
	X(DUPLICATE_VOTER, 126)                                                                    \
	X(VOTER_NOT_FOUND, 127)                                                                    \
	X(INVALID_REGULAR_EXPRESSION, 128)

enum kafka_err {
#define KAFKA_ERR_ENUM(name, code) KAFKA_ERR_##name = (code),
	KAFKA_ERR_MAP(KAFKA_ERR_ENUM)
#undef KAFKA_ERR_ENUM
};

/* Returns the name of a Kafka error code ("UNSUPPORTED_VERSION"), or "UNKNOWN" for codes outside
 * the table. */
const char *kafka_err_name(int16_t code);

enum kafka_api_key {
	KAFKA_API_PRODUCE = 0,
	KAFKA_API_FETCH = 1,
	KAFKA_API_LIST_OFFSETS = 2,
	KAFKA_API_METADATA = 3,
	KAFKA_API_OFFSET_COMMIT = 8,
	KAFKA_API_OFFSET_FETCH = 9,
	KAFKA_API_FIND_COORDINATOR = 10,
	KAFKA_API_JOIN_GROUP = 11,
	KAFKA_API_HEARTBEAT = 12,
	KAFKA_API_LEAVE_GROUP = 13,
	KAFKA_API_SYNC_GROUP = 14,
	KAFKA_API_DESCRIBE_GROUPS = 15,
	KAFKA_API_LIST_GROUPS = 16,
	KAFKA_API_SASL_HANDSHAKE = 17,
	KAFKA_API_API_VERSIONS = 18,
	KAFKA_API_CREATE_TOPICS = 19,
	KAFKA_API_DELETE_TOPICS = 20,
	KAFKA_API_INIT_PRODUCER_ID = 22,
	KAFKA_API_DESCRIBE_CONFIGS = 32,
	KAFKA_API_CREATE_PARTITIONS = 37,
	KAFKA_API_DELETE_GROUPS = 42,
	KAFKA_API_ELECT_LEADERS = 43,
	KAFKA_API_ALTER_PARTITION_REASSIGNMENTS = 45,
	KAFKA_API_LIST_PARTITION_REASSIGNMENTS = 46,
	KAFKA_API_OFFSET_DELETE = 47,
	KAFKA_API_UNREGISTER_BROKER = 64,
	KAFKA_API_CONSUMER_GROUP_HEARTBEAT = 68,
	KAFKA_API_CONSUMER_GROUP_DESCRIBE = 69,
};

/* One API the codec knows: the versions it can decode and encode, and from which version on
 * the API is flexible (-1 = never). The broker advertises its own (possibly narrower) ranges. */
struct kafka_api {
	int16_t key;
	const char *name;
	int16_t version_min;
	int16_t version_max;
	int16_t flexible_min;
	const struct kafka_struct_desc *request;
	const struct kafka_struct_desc *response;
};

extern const struct kafka_api kafka_apis[];
extern const size_t kafka_apis_count;

/* Returns the table entry for `api_key`, or NULL when the codec does not know it. */
const struct kafka_api *kafka_api_find(int16_t api_key);

/* True when `api` can code `version`. */
bool kafka_version_supported(const struct kafka_api *api, int16_t version);

/* True when `version` of `api` uses the flexible encodings. */
bool kafka_version_flexible(const struct kafka_api *api, int16_t version);

/* Request header version for (api_key, version): 2 when flexible, else 1 (also for unknown
 * APIs). Response header version: 1 when flexible, else 0, and always 0 for ApiVersions. */
int kafka_request_header_version(int16_t api_key, int16_t version);
int kafka_response_header_version(int16_t api_key, int16_t version);

struct kafka_request_header {
	int16_t api_key;
	int16_t api_version;
	int32_t correlation_id;
	struct kafka_str client_id; /* points into the frame; len -1 = null */
	int header_version;         /* 1 or 2 */
	size_t header_bytes;        /* where the body starts in the frame */
};

/* Decodes the request header at the start of `frame` (`n` bytes, size prefix stripped) into *h.
 * The header version follows from the API's flexible versions; for an API key the codec does
 * not know, header v1 is assumed (so the broker can still answer with the correlation id).
 * Returns 0, or SLUICE_EMALFORMED when the frame is too short or the header is malformed; on
 * error, h->api_key, api_version and correlation_id are filled if their 8 bytes were present. */
int kafka_request_header_decode(const uint8_t *frame, size_t n, struct kafka_request_header *h);

/* Decodes the request body of (api_key, version) at `p` (`n` bytes, exactly the body) into
 * `out`, which must point to the API's request struct (e.g. struct kafka_produce_request).
 * Arrays are allocated from `a`; strings and records point into `p`, so both `a` and the frame
 * must outlive `out`. Returns 0, SLUICE_ENOTFOUND (unknown API), SLUICE_EVERSION (version out of
 * range), SLUICE_EMALFORMED (bad or truncated; bytes after a complete body are ignored, as Kafka
 * ignores them) or SLUICE_ENOMEM (arena limit).
 * On error `out` holds partial data that must not be used. */
int kafka_request_decode(int16_t api_key, int16_t version, const uint8_t *p, size_t n,
			 struct arena *a, void *out);

/* Same for a response body (after the response header). */
int kafka_response_decode(int16_t api_key, int16_t version, const uint8_t *p, size_t n,
			  struct arena *a, void *out);

/* Decodes the response header of (api_key, version) at `p`: *correlation_id and
 * *header_bytes (where the body starts). Returns 0 or SLUICE_EMALFORMED. */
int kafka_response_header_decode(int16_t api_key, int16_t version, const uint8_t *p, size_t n,
				 int32_t *correlation_id, size_t *header_bytes);

/* Appends the request header and the body `body` (the API's request struct) to `w`, without the
 * size prefix. Returns 0, SLUICE_ENOTFOUND, SLUICE_EVERSION, SLUICE_EINVAL (a value the version
 * cannot carry) or SLUICE_ENOMEM (w->oom). On error `w` may hold partial output. */
int kafka_request_encode(struct wbuf *w, int16_t api_key, int16_t version, int32_t correlation_id,
			 struct kafka_str client_id, const void *body);

/* Appends the response header (v0 or v1, v0 always for ApiVersions) and the body (the API's
 * response struct) to `w`, without the size prefix. Returns as kafka_request_encode(). */
int kafka_response_encode(struct wbuf *w, int16_t api_key, int16_t version, int32_t correlation_id,
			  const void *body);

/* Generic forms over a descriptor, for tests and tools: decode a whole struct from `p`/`n`
 * (all bytes must be used), encode one, and compare two structs field by field at `version`
 * (fields absent at the version are not compared). */
int kafka_struct_decode(const struct kafka_struct_desc *d, int16_t version, bool flexible,
			const uint8_t *p, size_t n, struct arena *a, void *out);
int kafka_struct_encode(struct wbuf *w, const struct kafka_struct_desc *d, int16_t version,
			bool flexible, const void *in);
bool kafka_struct_equal(const struct kafka_struct_desc *d, int16_t version, const void *x,
			const void *y);

/* Sets every field of the struct at `base` to its schema default (ints such as LeaderId -1,
 * null strings and arrays where the default is null, nested structs recursively). Call it on a
 * response struct and on each array element before filling them: a zeroed struct differs from
 * the defaults, and a tagged field that differs from its default is written (e.g. a zeroed
 * CurrentLeader would announce leader 0). */
void kafka_struct_defaults(const struct kafka_struct_desc *d, void *base);

/* Small helpers for building messages. */
static inline struct kafka_str kafka_str_null(void)
{
	return (struct kafka_str){ NULL, -1 };
}

/* Wraps a NUL-terminated string (not copied); NULL gives a null string. */
struct kafka_str kafka_str_c(const char *s);

/* True when `s` is non-null and equals the NUL-terminated `c`. */
bool kafka_str_eq(struct kafka_str s, const char *c);

#endif
