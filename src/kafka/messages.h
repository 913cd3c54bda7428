/*
 * messages: the C form of every Kafka request and response body Sluice speaks, and the
 * field-descriptor table that describes each one to the generic codec in kafka.c.
 *
 * One struct per message and per nested struct, named kafka_<api>_<request|response>[_<struct>],
 * with members in schema order. Each member's comment gives the protocol guide's field name, the
 * versions in which it is on the wire, the versions in which it may be null, its tag when it is a
 * tagged field, and its default when that is not zero. Transcribed from Apache Kafka's message
 * schemas (clients/src/main/resources/common/message/<Name>{Request,Response}.json, the revision
 * that still lists every version from 0, before KIP-896 removed the oldest ones).
 *
 * Representation:
 *   - string: struct kafka_str, len -1 means null; not NUL-terminated; after decoding it points
 *     into the frame, so the frame must outlive the struct.
 *   - bytes and records: struct kafka_bytes, len -1 means null; records stay a zero-copy view of
 *     the frame.
 *   - arrays: KAFKA_ARRAY(T) = { T *v; int32_t n; }, n -1 means null; decoded elements live in the
 *     request's arena.
 *   - a struct member that is nullable in some version is a pointer (NULL = null); otherwise the
 *     struct is inline.
 *   - a field absent at the decoded version holds its schema default after decoding; when
 *     encoding, fields absent at the version are ignored.
 * A zero-initialised struct encodes as zeros, empty strings and empty arrays.
 *
 * Invariants of the tables: in every kafka_struct_desc, regular fields come first in wire order,
 * then tagged fields in ascending tag order; a tagged field's versions are its tagged versions.
 */
#ifndef SLUICE_KAFKA_MESSAGES_H
#define SLUICE_KAFKA_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kafka_str {
	const char *ptr;
	int32_t len; /* -1 = null */
};

struct kafka_bytes {
	const uint8_t *ptr;
	int32_t len; /* -1 = null */
};

struct kafka_uuid {
	uint8_t b[16];
};

#define KAFKA_ARRAY(T)                                                                             \
	struct {                                                                                   \
		T *v;                                                                              \
		int32_t n; /* -1 = null */                                                         \
	}

/* The layout every KAFKA_ARRAY(T) shares, which the codec writes through. */
struct kafka_array_any {
	void *v;
	int32_t n;
};

enum kafka_type {
	KAFKA_T_NONE,
	KAFKA_T_BOOL,
	KAFKA_T_INT8,
	KAFKA_T_INT16,
	KAFKA_T_UINT16,
	KAFKA_T_INT32,
	KAFKA_T_INT64,
	KAFKA_T_FLOAT64,
	KAFKA_T_UUID,
	KAFKA_T_STRING,
	KAFKA_T_BYTES,
	KAFKA_T_RECORDS,
	KAFKA_T_ARRAY,
	KAFKA_T_STRUCT,
};

#define KAFKA_VERSION_MAX 0x7fff /* "N+" in a schema */

struct kafka_struct_desc;

/* One field of a message. A range with lo > hi is empty (e.g. never nullable). */
struct kafka_field {
	const char *name; /* the schema's spelling */
	uint32_t offset;  /* offsetof the member in the C struct */
	uint8_t type;     /* enum kafka_type */
	uint8_t elem;     /* element type of an array */
	int16_t version_min, version_max;
	int16_t nullable_min, nullable_max;
	int16_t tag; /* -1 unless a tagged field */
	/* Integer and bool fields: the default value. String, bytes, array and struct fields:
	 * 1 when the default is null, 0 when it is empty (or all defaults). */
	int64_t dflt;
	const struct kafka_struct_desc *child; /* struct type, or array element struct type */
};

struct kafka_struct_desc {
	const char *name;
	const struct kafka_field *fields;
	uint16_t fields_count;
	uint32_t size; /* sizeof the C struct */
};

struct kafka_api_versions_request {
	struct kafka_str client_software_name;    /* ClientSoftwareName, v3+ */
	struct kafka_str client_software_version; /* ClientSoftwareVersion, v3+ */
};
extern const struct kafka_struct_desc kafka_api_versions_request_desc;

struct kafka_api_versions_response_api_version {
	int16_t api_key;     /* ApiKey, v0+ */
	int16_t min_version; /* MinVersion, v0+ */
	int16_t max_version; /* MaxVersion, v0+ */
};
extern const struct kafka_struct_desc kafka_api_versions_response_api_version_desc;

struct kafka_api_versions_response_supported_feature_key {
	struct kafka_str name; /* Name, v3+ */
	int16_t min_version;   /* MinVersion, v3+ */
	int16_t max_version;   /* MaxVersion, v3+ */
};
extern const struct kafka_struct_desc kafka_api_versions_response_supported_feature_key_desc;

struct kafka_api_versions_response_finalized_feature_key {
	struct kafka_str name;     /* Name, v3+ */
	int16_t max_version_level; /* MaxVersionLevel, v3+ */
	int16_t min_version_level; /* MinVersionLevel, v3+ */
};
extern const struct kafka_struct_desc kafka_api_versions_response_finalized_feature_key_desc;

struct kafka_api_versions_response {
	int16_t error_code;                                                   /* ErrorCode, v0+ */
	KAFKA_ARRAY(struct kafka_api_versions_response_api_version) api_keys; /* ApiKeys, v0+ */
	int32_t throttle_time_ms; /* ThrottleTimeMs, v1+ */
	KAFKA_ARRAY(struct kafka_api_versions_response_supported_feature_key)
	supported_features;               /* SupportedFeatures, v3+, tag 0 */
	int64_t finalized_features_epoch; /* FinalizedFeaturesEpoch, v3+, tag 1, default -1 */
	KAFKA_ARRAY(struct kafka_api_versions_response_finalized_feature_key)
	finalized_features;      /* FinalizedFeatures, v3+, tag 2 */
	bool zk_migration_ready; /* ZkMigrationReady, v3+, tag 3 */
};
extern const struct kafka_struct_desc kafka_api_versions_response_desc;

struct kafka_metadata_request_metadata_request_topic {
	struct kafka_uuid topic_id; /* TopicId, v10+ */
	struct kafka_str name;      /* Name, v0+, nullable v10+ */
};
extern const struct kafka_struct_desc kafka_metadata_request_metadata_request_topic_desc;

struct kafka_metadata_request {
	KAFKA_ARRAY(struct kafka_metadata_request_metadata_request_topic)
	topics;                                     /* Topics, v0+, nullable v1+ */
	bool allow_auto_topic_creation;             /* AllowAutoTopicCreation, v4+, default true */
	bool include_cluster_authorized_operations; /* IncludeClusterAuthorizedOperations, v8-10 */
	bool include_topic_authorized_operations;   /* IncludeTopicAuthorizedOperations, v8+ */
};
extern const struct kafka_struct_desc kafka_metadata_request_desc;

struct kafka_metadata_response_metadata_response_broker {
	int32_t node_id;       /* NodeId, v0+ */
	struct kafka_str host; /* Host, v0+ */
	int32_t port;          /* Port, v0+ */
	struct kafka_str rack; /* Rack, v1+, nullable v1+, default null */
};
extern const struct kafka_struct_desc kafka_metadata_response_metadata_response_broker_desc;

struct kafka_metadata_response_metadata_response_partition {
	int16_t error_code;                    /* ErrorCode, v0+ */
	int32_t partition_index;               /* PartitionIndex, v0+ */
	int32_t leader_id;                     /* LeaderId, v0+ */
	int32_t leader_epoch;                  /* LeaderEpoch, v7+, default -1 */
	KAFKA_ARRAY(int32_t) replica_nodes;    /* ReplicaNodes, v0+ */
	KAFKA_ARRAY(int32_t) isr_nodes;        /* IsrNodes, v0+ */
	KAFKA_ARRAY(int32_t) offline_replicas; /* OfflineReplicas, v5+ */
};
extern const struct kafka_struct_desc kafka_metadata_response_metadata_response_partition_desc;

struct kafka_metadata_response_metadata_response_topic {
	int16_t error_code;         /* ErrorCode, v0+ */
	struct kafka_str name;      /* Name, v0+, nullable v12+ */
	struct kafka_uuid topic_id; /* TopicId, v10+ */
	bool is_internal;           /* IsInternal, v1+ */
	KAFKA_ARRAY(struct kafka_metadata_response_metadata_response_partition)
	partitions;                          /* Partitions, v0+ */
	int32_t topic_authorized_operations; /* TopicAuthorizedOperations, v8+, default -2147483648 */
};
extern const struct kafka_struct_desc kafka_metadata_response_metadata_response_topic_desc;

struct kafka_metadata_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v3+ */
	KAFKA_ARRAY(struct kafka_metadata_response_metadata_response_broker)
	brokers;                     /* Brokers, v0+ */
	struct kafka_str cluster_id; /* ClusterId, v2+, nullable v2+, default null */
	int32_t controller_id;       /* ControllerId, v1+, default -1 */
	KAFKA_ARRAY(struct kafka_metadata_response_metadata_response_topic)
	topics;                                /* Topics, v0+ */
	int32_t cluster_authorized_operations; /* ClusterAuthorizedOperations, v8-10, default -2147483648 */
};
extern const struct kafka_struct_desc kafka_metadata_response_desc;

struct kafka_produce_request_partition_produce_data {
	int32_t index;              /* Index, v0+ */
	struct kafka_bytes records; /* Records, v0+, nullable v0+ */
};
extern const struct kafka_struct_desc kafka_produce_request_partition_produce_data_desc;

struct kafka_produce_request_topic_produce_data {
	struct kafka_str name; /* Name, v0+ */
	KAFKA_ARRAY(struct kafka_produce_request_partition_produce_data)
	partition_data; /* PartitionData, v0+ */
};
extern const struct kafka_struct_desc kafka_produce_request_topic_produce_data_desc;

struct kafka_produce_request {
	struct kafka_str transactional_id; /* TransactionalId, v3+, nullable v3+, default null */
	int16_t acks;                      /* Acks, v0+ */
	int32_t timeout_ms;                /* TimeoutMs, v0+ */
	KAFKA_ARRAY(struct kafka_produce_request_topic_produce_data)
	topic_data; /* TopicData, v0+ */
};
extern const struct kafka_struct_desc kafka_produce_request_desc;

struct kafka_produce_response_batch_index_and_error_message {
	int32_t batch_index; /* BatchIndex, v8+ */
	struct kafka_str
		batch_index_error_message; /* BatchIndexErrorMessage, v8+, nullable v8+, default null */
};
extern const struct kafka_struct_desc kafka_produce_response_batch_index_and_error_message_desc;

struct kafka_produce_response_leader_id_and_epoch {
	int32_t leader_id;    /* LeaderId, v10+, default -1 */
	int32_t leader_epoch; /* LeaderEpoch, v10+, default -1 */
};
extern const struct kafka_struct_desc kafka_produce_response_leader_id_and_epoch_desc;

struct kafka_produce_response_partition_produce_response {
	int32_t index;              /* Index, v0+ */
	int16_t error_code;         /* ErrorCode, v0+ */
	int64_t base_offset;        /* BaseOffset, v0+ */
	int64_t log_append_time_ms; /* LogAppendTimeMs, v2+, default -1 */
	int64_t log_start_offset;   /* LogStartOffset, v5+, default -1 */
	KAFKA_ARRAY(struct kafka_produce_response_batch_index_and_error_message)
	record_errors;                  /* RecordErrors, v8+ */
	struct kafka_str error_message; /* ErrorMessage, v8+, nullable v8+, default null */
	struct kafka_produce_response_leader_id_and_epoch
		current_leader; /* CurrentLeader, v10+, tag 0 */
};
extern const struct kafka_struct_desc kafka_produce_response_partition_produce_response_desc;

struct kafka_produce_response_topic_produce_response {
	struct kafka_str name; /* Name, v0+ */
	KAFKA_ARRAY(struct kafka_produce_response_partition_produce_response)
	partition_responses; /* PartitionResponses, v0+ */
};
extern const struct kafka_struct_desc kafka_produce_response_topic_produce_response_desc;

struct kafka_produce_response_node_endpoint {
	int32_t node_id;       /* NodeId, v10+ */
	struct kafka_str host; /* Host, v10+ */
	int32_t port;          /* Port, v10+ */
	struct kafka_str rack; /* Rack, v10+, nullable v10+, default null */
};
extern const struct kafka_struct_desc kafka_produce_response_node_endpoint_desc;

struct kafka_produce_response {
	KAFKA_ARRAY(struct kafka_produce_response_topic_produce_response)
	responses;                /* Responses, v0+ */
	int32_t throttle_time_ms; /* ThrottleTimeMs, v1+ */
	KAFKA_ARRAY(struct kafka_produce_response_node_endpoint)
	node_endpoints; /* NodeEndpoints, v10+, tag 0 */
};
extern const struct kafka_struct_desc kafka_produce_response_desc;

struct kafka_fetch_request_replica_state {
	int32_t replica_id;    /* ReplicaId, v15+, default -1 */
	int64_t replica_epoch; /* ReplicaEpoch, v15+, default -1 */
};
extern const struct kafka_struct_desc kafka_fetch_request_replica_state_desc;

struct kafka_fetch_request_fetch_partition {
	int32_t partition;                      /* Partition, v0+ */
	int32_t current_leader_epoch;           /* CurrentLeaderEpoch, v9+, default -1 */
	int64_t fetch_offset;                   /* FetchOffset, v0+ */
	int32_t last_fetched_epoch;             /* LastFetchedEpoch, v12+, default -1 */
	int64_t log_start_offset;               /* LogStartOffset, v5+, default -1 */
	int32_t partition_max_bytes;            /* PartitionMaxBytes, v0+ */
	struct kafka_uuid replica_directory_id; /* ReplicaDirectoryId, v17+, tag 0 */
};
extern const struct kafka_struct_desc kafka_fetch_request_fetch_partition_desc;

struct kafka_fetch_request_fetch_topic {
	struct kafka_str topic;                                             /* Topic, v0-12 */
	struct kafka_uuid topic_id;                                         /* TopicId, v13+ */
	KAFKA_ARRAY(struct kafka_fetch_request_fetch_partition) partitions; /* Partitions, v0+ */
};
extern const struct kafka_struct_desc kafka_fetch_request_fetch_topic_desc;

struct kafka_fetch_request_forgotten_topic {
	struct kafka_str topic;          /* Topic, v7-12 */
	struct kafka_uuid topic_id;      /* TopicId, v13+ */
	KAFKA_ARRAY(int32_t) partitions; /* Partitions, v7+ */
};
extern const struct kafka_struct_desc kafka_fetch_request_forgotten_topic_desc;

struct kafka_fetch_request {
	struct kafka_str cluster_id; /* ClusterId, v12+, nullable v12+, tag 0, default null */
	int32_t replica_id;          /* ReplicaId, v0-14, default -1 */
	struct kafka_fetch_request_replica_state replica_state; /* ReplicaState, v15+, tag 1 */
	int32_t max_wait_ms;                                    /* MaxWaitMs, v0+ */
	int32_t min_bytes;                                      /* MinBytes, v0+ */
	int32_t max_bytes;      /* MaxBytes, v3+, default 0x7fffffff */
	int8_t isolation_level; /* IsolationLevel, v4+ */
	int32_t session_id;     /* SessionId, v7+ */
	int32_t session_epoch;  /* SessionEpoch, v7+, default -1 */
	KAFKA_ARRAY(struct kafka_fetch_request_fetch_topic) topics; /* Topics, v0+ */
	KAFKA_ARRAY(struct kafka_fetch_request_forgotten_topic)
	forgotten_topics_data;    /* ForgottenTopicsData, v7+ */
	struct kafka_str rack_id; /* RackId, v11+ */
};
extern const struct kafka_struct_desc kafka_fetch_request_desc;

struct kafka_fetch_response_epoch_end_offset {
	int32_t epoch;      /* Epoch, v12+, default -1 */
	int64_t end_offset; /* EndOffset, v12+, default -1 */
};
extern const struct kafka_struct_desc kafka_fetch_response_epoch_end_offset_desc;

struct kafka_fetch_response_leader_id_and_epoch {
	int32_t leader_id;    /* LeaderId, v12+, default -1 */
	int32_t leader_epoch; /* LeaderEpoch, v12+, default -1 */
};
extern const struct kafka_struct_desc kafka_fetch_response_leader_id_and_epoch_desc;

struct kafka_fetch_response_snapshot_id {
	int64_t end_offset; /* EndOffset, v0+, default -1 */
	int32_t epoch;      /* Epoch, v0+, default -1 */
};
extern const struct kafka_struct_desc kafka_fetch_response_snapshot_id_desc;

struct kafka_fetch_response_aborted_transaction {
	int64_t producer_id;  /* ProducerId, v4+ */
	int64_t first_offset; /* FirstOffset, v4+ */
};
extern const struct kafka_struct_desc kafka_fetch_response_aborted_transaction_desc;

struct kafka_fetch_response_partition_data {
	int32_t partition_index;    /* PartitionIndex, v0+ */
	int16_t error_code;         /* ErrorCode, v0+ */
	int64_t high_watermark;     /* HighWatermark, v0+ */
	int64_t last_stable_offset; /* LastStableOffset, v4+, default -1 */
	int64_t log_start_offset;   /* LogStartOffset, v5+, default -1 */
	struct kafka_fetch_response_epoch_end_offset
		diverging_epoch; /* DivergingEpoch, v12+, tag 0 */
	struct kafka_fetch_response_leader_id_and_epoch
		current_leader;                              /* CurrentLeader, v12+, tag 1 */
	struct kafka_fetch_response_snapshot_id snapshot_id; /* SnapshotId, v12+, tag 2 */
	KAFKA_ARRAY(struct kafka_fetch_response_aborted_transaction)
	aborted_transactions;           /* AbortedTransactions, v4+, nullable v4+ */
	int32_t preferred_read_replica; /* PreferredReadReplica, v11+, default -1 */
	struct kafka_bytes records;     /* Records, v0+, nullable v0+ */
};
extern const struct kafka_struct_desc kafka_fetch_response_partition_data_desc;

struct kafka_fetch_response_fetchable_topic_response {
	struct kafka_str topic;                                             /* Topic, v0-12 */
	struct kafka_uuid topic_id;                                         /* TopicId, v13+ */
	KAFKA_ARRAY(struct kafka_fetch_response_partition_data) partitions; /* Partitions, v0+ */
};
extern const struct kafka_struct_desc kafka_fetch_response_fetchable_topic_response_desc;

struct kafka_fetch_response_node_endpoint {
	int32_t node_id;       /* NodeId, v16+ */
	struct kafka_str host; /* Host, v16+ */
	int32_t port;          /* Port, v16+ */
	struct kafka_str rack; /* Rack, v16+, nullable v16+, default null */
};
extern const struct kafka_struct_desc kafka_fetch_response_node_endpoint_desc;

struct kafka_fetch_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v1+ */
	int16_t error_code;       /* ErrorCode, v7+ */
	int32_t session_id;       /* SessionId, v7+ */
	KAFKA_ARRAY(struct kafka_fetch_response_fetchable_topic_response)
	responses; /* Responses, v0+ */
	KAFKA_ARRAY(struct kafka_fetch_response_node_endpoint)
	node_endpoints; /* NodeEndpoints, v16+, tag 0 */
};
extern const struct kafka_struct_desc kafka_fetch_response_desc;

struct kafka_list_offsets_request_list_offsets_partition {
	int32_t partition_index;      /* PartitionIndex, v0+ */
	int32_t current_leader_epoch; /* CurrentLeaderEpoch, v4+, default -1 */
	int64_t timestamp;            /* Timestamp, v0+ */
	int32_t max_num_offsets;      /* MaxNumOffsets, v0, default 1 */
};
extern const struct kafka_struct_desc kafka_list_offsets_request_list_offsets_partition_desc;

struct kafka_list_offsets_request_list_offsets_topic {
	struct kafka_str name; /* Name, v0+ */
	KAFKA_ARRAY(struct kafka_list_offsets_request_list_offsets_partition)
	partitions; /* Partitions, v0+ */
};
extern const struct kafka_struct_desc kafka_list_offsets_request_list_offsets_topic_desc;

struct kafka_list_offsets_request {
	int32_t replica_id;     /* ReplicaId, v0+ */
	int8_t isolation_level; /* IsolationLevel, v2+ */
	KAFKA_ARRAY(struct kafka_list_offsets_request_list_offsets_topic) topics; /* Topics, v0+ */
	int32_t timeout_ms; /* TimeoutMs, v10+ */
};
extern const struct kafka_struct_desc kafka_list_offsets_request_desc;

struct kafka_list_offsets_response_list_offsets_partition_response {
	int32_t partition_index;                /* PartitionIndex, v0+ */
	int16_t error_code;                     /* ErrorCode, v0+ */
	KAFKA_ARRAY(int64_t) old_style_offsets; /* OldStyleOffsets, v0 */
	int64_t timestamp;                      /* Timestamp, v1+, default -1 */
	int64_t offset;                         /* Offset, v1+, default -1 */
	int32_t leader_epoch;                   /* LeaderEpoch, v4+, default -1 */
};
extern const struct kafka_struct_desc
	kafka_list_offsets_response_list_offsets_partition_response_desc;

struct kafka_list_offsets_response_list_offsets_topic_response {
	struct kafka_str name; /* Name, v0+ */
	KAFKA_ARRAY(struct kafka_list_offsets_response_list_offsets_partition_response)
	partitions; /* Partitions, v0+ */
};
extern const struct kafka_struct_desc kafka_list_offsets_response_list_offsets_topic_response_desc;

struct kafka_list_offsets_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v2+ */
	KAFKA_ARRAY(struct kafka_list_offsets_response_list_offsets_topic_response)
	topics; /* Topics, v0+ */
};
extern const struct kafka_struct_desc kafka_list_offsets_response_desc;

struct kafka_create_topics_request_creatable_replica_assignment {
	int32_t partition_index;         /* PartitionIndex, v0+ */
	KAFKA_ARRAY(int32_t) broker_ids; /* BrokerIds, v0+ */
};
extern const struct kafka_struct_desc kafka_create_topics_request_creatable_replica_assignment_desc;

struct kafka_create_topics_request_creatable_topic_config {
	struct kafka_str name;  /* Name, v0+ */
	struct kafka_str value; /* Value, v0+, nullable v0+ */
};
extern const struct kafka_struct_desc kafka_create_topics_request_creatable_topic_config_desc;

struct kafka_create_topics_request_creatable_topic {
	struct kafka_str name;      /* Name, v0+ */
	int32_t num_partitions;     /* NumPartitions, v0+ */
	int16_t replication_factor; /* ReplicationFactor, v0+ */
	KAFKA_ARRAY(struct kafka_create_topics_request_creatable_replica_assignment)
	assignments; /* Assignments, v0+ */
	KAFKA_ARRAY(struct kafka_create_topics_request_creatable_topic_config)
	configs; /* Configs, v0+ */
};
extern const struct kafka_struct_desc kafka_create_topics_request_creatable_topic_desc;

struct kafka_create_topics_request {
	KAFKA_ARRAY(struct kafka_create_topics_request_creatable_topic) topics; /* Topics, v0+ */
	int32_t timeout_ms; /* timeoutMs, v0+, default 60000 */
	bool validate_only; /* validateOnly, v1+ */
};
extern const struct kafka_struct_desc kafka_create_topics_request_desc;

struct kafka_create_topics_response_creatable_topic_configs {
	struct kafka_str name;  /* Name, v5+ */
	struct kafka_str value; /* Value, v5+, nullable v5+ */
	bool read_only;         /* ReadOnly, v5+ */
	int8_t config_source;   /* ConfigSource, v5+, default -1 */
	bool is_sensitive;      /* IsSensitive, v5+ */
};
extern const struct kafka_struct_desc kafka_create_topics_response_creatable_topic_configs_desc;

struct kafka_create_topics_response_creatable_topic_result {
	struct kafka_str name;           /* Name, v0+ */
	struct kafka_uuid topic_id;      /* TopicId, v7+ */
	int16_t error_code;              /* ErrorCode, v0+ */
	struct kafka_str error_message;  /* ErrorMessage, v1+, nullable v0+ */
	int16_t topic_config_error_code; /* TopicConfigErrorCode, v5+, tag 0 */
	int32_t num_partitions;          /* NumPartitions, v5+, default -1 */
	int16_t replication_factor;      /* ReplicationFactor, v5+, default -1 */
	KAFKA_ARRAY(struct kafka_create_topics_response_creatable_topic_configs)
	configs; /* Configs, v5+, nullable v5+ */
};
extern const struct kafka_struct_desc kafka_create_topics_response_creatable_topic_result_desc;

struct kafka_create_topics_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v2+ */
	KAFKA_ARRAY(struct kafka_create_topics_response_creatable_topic_result)
	topics; /* Topics, v0+ */
};
extern const struct kafka_struct_desc kafka_create_topics_response_desc;

struct kafka_delete_topics_request_delete_topic_state {
	struct kafka_str name;      /* Name, v6+, nullable v6+, default null */
	struct kafka_uuid topic_id; /* TopicId, v6+ */
};
extern const struct kafka_struct_desc kafka_delete_topics_request_delete_topic_state_desc;

struct kafka_delete_topics_request {
	KAFKA_ARRAY(struct kafka_delete_topics_request_delete_topic_state) topics; /* Topics, v6+ */
	KAFKA_ARRAY(struct kafka_str) topic_names; /* TopicNames, v0-5 */
	int32_t timeout_ms;                        /* TimeoutMs, v0+ */
};
extern const struct kafka_struct_desc kafka_delete_topics_request_desc;

struct kafka_delete_topics_response_deletable_topic_result {
	struct kafka_str name;          /* Name, v0+, nullable v6+ */
	struct kafka_uuid topic_id;     /* TopicId, v6+ */
	int16_t error_code;             /* ErrorCode, v0+ */
	struct kafka_str error_message; /* ErrorMessage, v5+, nullable v5+, default null */
};
extern const struct kafka_struct_desc kafka_delete_topics_response_deletable_topic_result_desc;

struct kafka_delete_topics_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v1+ */
	KAFKA_ARRAY(struct kafka_delete_topics_response_deletable_topic_result)
	responses; /* Responses, v0+ */
};
extern const struct kafka_struct_desc kafka_delete_topics_response_desc;

struct kafka_describe_configs_request_describe_configs_resource {
	int8_t resource_type;                             /* ResourceType, v0+ */
	struct kafka_str resource_name;                   /* ResourceName, v0+ */
	KAFKA_ARRAY(struct kafka_str) configuration_keys; /* ConfigurationKeys, v0+, nullable v0+ */
};
extern const struct kafka_struct_desc kafka_describe_configs_request_describe_configs_resource_desc;

struct kafka_describe_configs_request {
	KAFKA_ARRAY(struct kafka_describe_configs_request_describe_configs_resource)
	resources;                  /* Resources, v0+ */
	bool include_synonyms;      /* IncludeSynonyms, v1+ */
	bool include_documentation; /* IncludeDocumentation, v3+ */
};
extern const struct kafka_struct_desc kafka_describe_configs_request_desc;

struct kafka_describe_configs_response_describe_configs_synonym {
	struct kafka_str name;  /* Name, v1+ */
	struct kafka_str value; /* Value, v1+, nullable v0+ */
	int8_t source;          /* Source, v1+ */
};
extern const struct kafka_struct_desc kafka_describe_configs_response_describe_configs_synonym_desc;

struct kafka_describe_configs_response_describe_configs_resource_result {
	struct kafka_str name;  /* Name, v0+ */
	struct kafka_str value; /* Value, v0+, nullable v0+ */
	bool read_only;         /* ReadOnly, v0+ */
	bool is_default;        /* IsDefault, v0 */
	int8_t config_source;   /* ConfigSource, v1+, default -1 */
	bool is_sensitive;      /* IsSensitive, v0+ */
	KAFKA_ARRAY(struct kafka_describe_configs_response_describe_configs_synonym)
	synonyms;                       /* Synonyms, v1+ */
	int8_t config_type;             /* ConfigType, v3+ */
	struct kafka_str documentation; /* Documentation, v3+, nullable v0+ */
};
extern const struct kafka_struct_desc
	kafka_describe_configs_response_describe_configs_resource_result_desc;

struct kafka_describe_configs_response_describe_configs_result {
	int16_t error_code;             /* ErrorCode, v0+ */
	struct kafka_str error_message; /* ErrorMessage, v0+, nullable v0+ */
	int8_t resource_type;           /* ResourceType, v0+ */
	struct kafka_str resource_name; /* ResourceName, v0+ */
	KAFKA_ARRAY(struct kafka_describe_configs_response_describe_configs_resource_result)
	configs; /* Configs, v0+ */
};
extern const struct kafka_struct_desc kafka_describe_configs_response_describe_configs_result_desc;

struct kafka_describe_configs_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v0+ */
	KAFKA_ARRAY(struct kafka_describe_configs_response_describe_configs_result)
	results; /* Results, v0+ */
};
extern const struct kafka_struct_desc kafka_describe_configs_response_desc;

struct kafka_init_producer_id_request {
	struct kafka_str transactional_id; /* TransactionalId, v0+, nullable v0+ */
	int32_t transaction_timeout_ms;    /* TransactionTimeoutMs, v0+ */
	int64_t producer_id;               /* ProducerId, v3+, default -1 */
	int16_t producer_epoch;            /* ProducerEpoch, v3+, default -1 */
};
extern const struct kafka_struct_desc kafka_init_producer_id_request_desc;

struct kafka_init_producer_id_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v0+ */
	int16_t error_code;       /* ErrorCode, v0+ */
	int64_t producer_id;      /* ProducerId, v0+, default -1 */
	int16_t producer_epoch;   /* ProducerEpoch, v0+ */
};
extern const struct kafka_struct_desc kafka_init_producer_id_response_desc;

struct kafka_find_coordinator_request {
	struct kafka_str key;                           /* Key, v0-3 */
	int8_t key_type;                                /* KeyType, v1+ */
	KAFKA_ARRAY(struct kafka_str) coordinator_keys; /* CoordinatorKeys, v4+ */
};
extern const struct kafka_struct_desc kafka_find_coordinator_request_desc;

struct kafka_find_coordinator_response_coordinator {
	struct kafka_str key;           /* Key, v4+ */
	int32_t node_id;                /* NodeId, v4+ */
	struct kafka_str host;          /* Host, v4+ */
	int32_t port;                   /* Port, v4+ */
	int16_t error_code;             /* ErrorCode, v4+ */
	struct kafka_str error_message; /* ErrorMessage, v4+, nullable v4+ */
};
extern const struct kafka_struct_desc kafka_find_coordinator_response_coordinator_desc;

struct kafka_find_coordinator_response {
	int32_t throttle_time_ms;       /* ThrottleTimeMs, v1+ */
	int16_t error_code;             /* ErrorCode, v0-3 */
	struct kafka_str error_message; /* ErrorMessage, v1-3, nullable v1-3 */
	int32_t node_id;                /* NodeId, v0-3 */
	struct kafka_str host;          /* Host, v0-3 */
	int32_t port;                   /* Port, v0-3 */
	KAFKA_ARRAY(struct kafka_find_coordinator_response_coordinator)
	coordinators; /* Coordinators, v4+ */
};
extern const struct kafka_struct_desc kafka_find_coordinator_response_desc;

struct kafka_join_group_request_join_group_request_protocol {
	struct kafka_str name;       /* Name, v0+ */
	struct kafka_bytes metadata; /* Metadata, v0+ */
};
extern const struct kafka_struct_desc kafka_join_group_request_join_group_request_protocol_desc;

struct kafka_join_group_request {
	struct kafka_str group_id;          /* GroupId, v0+ */
	int32_t session_timeout_ms;         /* SessionTimeoutMs, v0+ */
	int32_t rebalance_timeout_ms;       /* RebalanceTimeoutMs, v1+, default -1 */
	struct kafka_str member_id;         /* MemberId, v0+ */
	struct kafka_str group_instance_id; /* GroupInstanceId, v5+, nullable v5+, default null */
	struct kafka_str protocol_type;     /* ProtocolType, v0+ */
	KAFKA_ARRAY(struct kafka_join_group_request_join_group_request_protocol)
	protocols;               /* Protocols, v0+ */
	struct kafka_str reason; /* Reason, v8+, nullable v8+, default null */
};
extern const struct kafka_struct_desc kafka_join_group_request_desc;

struct kafka_join_group_response_join_group_response_member {
	struct kafka_str member_id;         /* MemberId, v0+ */
	struct kafka_str group_instance_id; /* GroupInstanceId, v5+, nullable v5+, default null */
	struct kafka_bytes metadata;        /* Metadata, v0+ */
};
extern const struct kafka_struct_desc kafka_join_group_response_join_group_response_member_desc;

struct kafka_join_group_response {
	int32_t throttle_time_ms;       /* ThrottleTimeMs, v2+ */
	int16_t error_code;             /* ErrorCode, v0+ */
	int32_t generation_id;          /* GenerationId, v0+, default -1 */
	struct kafka_str protocol_type; /* ProtocolType, v7+, nullable v7+, default null */
	struct kafka_str protocol_name; /* ProtocolName, v0+, nullable v7+ */
	struct kafka_str leader;        /* Leader, v0+ */
	bool skip_assignment;           /* SkipAssignment, v9+ */
	struct kafka_str member_id;     /* MemberId, v0+ */
	KAFKA_ARRAY(struct kafka_join_group_response_join_group_response_member)
	members; /* Members, v0+ */
};
extern const struct kafka_struct_desc kafka_join_group_response_desc;

struct kafka_sync_group_request_sync_group_request_assignment {
	struct kafka_str member_id;    /* MemberId, v0+ */
	struct kafka_bytes assignment; /* Assignment, v0+ */
};
extern const struct kafka_struct_desc kafka_sync_group_request_sync_group_request_assignment_desc;

struct kafka_sync_group_request {
	struct kafka_str group_id;          /* GroupId, v0+ */
	int32_t generation_id;              /* GenerationId, v0+ */
	struct kafka_str member_id;         /* MemberId, v0+ */
	struct kafka_str group_instance_id; /* GroupInstanceId, v3+, nullable v3+, default null */
	struct kafka_str protocol_type;     /* ProtocolType, v5+, nullable v5+, default null */
	struct kafka_str protocol_name;     /* ProtocolName, v5+, nullable v5+, default null */
	KAFKA_ARRAY(struct kafka_sync_group_request_sync_group_request_assignment)
	assignments; /* Assignments, v0+ */
};
extern const struct kafka_struct_desc kafka_sync_group_request_desc;

struct kafka_sync_group_response {
	int32_t throttle_time_ms;       /* ThrottleTimeMs, v1+ */
	int16_t error_code;             /* ErrorCode, v0+ */
	struct kafka_str protocol_type; /* ProtocolType, v5+, nullable v5+, default null */
	struct kafka_str protocol_name; /* ProtocolName, v5+, nullable v5+, default null */
	struct kafka_bytes assignment;  /* Assignment, v0+ */
};
extern const struct kafka_struct_desc kafka_sync_group_response_desc;

struct kafka_heartbeat_request {
	struct kafka_str group_id;          /* GroupId, v0+ */
	int32_t generation_id;              /* GenerationId, v0+ */
	struct kafka_str member_id;         /* MemberId, v0+ */
	struct kafka_str group_instance_id; /* GroupInstanceId, v3+, nullable v3+, default null */
};
extern const struct kafka_struct_desc kafka_heartbeat_request_desc;

struct kafka_heartbeat_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v1+ */
	int16_t error_code;       /* ErrorCode, v0+ */
};
extern const struct kafka_struct_desc kafka_heartbeat_response_desc;

struct kafka_leave_group_request_member_identity {
	struct kafka_str member_id;         /* MemberId, v3+ */
	struct kafka_str group_instance_id; /* GroupInstanceId, v3+, nullable v3+, default null */
	struct kafka_str reason;            /* Reason, v5+, nullable v5+, default null */
};
extern const struct kafka_struct_desc kafka_leave_group_request_member_identity_desc;

struct kafka_leave_group_request {
	struct kafka_str group_id;                                             /* GroupId, v0+ */
	struct kafka_str member_id;                                            /* MemberId, v0-2 */
	KAFKA_ARRAY(struct kafka_leave_group_request_member_identity) members; /* Members, v3+ */
};
extern const struct kafka_struct_desc kafka_leave_group_request_desc;

struct kafka_leave_group_response_member_response {
	struct kafka_str member_id;         /* MemberId, v3+ */
	struct kafka_str group_instance_id; /* GroupInstanceId, v3+, nullable v3+ */
	int16_t error_code;                 /* ErrorCode, v3+ */
};
extern const struct kafka_struct_desc kafka_leave_group_response_member_response_desc;

struct kafka_leave_group_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v1+ */
	int16_t error_code;       /* ErrorCode, v0+ */
	KAFKA_ARRAY(struct kafka_leave_group_response_member_response) members; /* Members, v3+ */
};
extern const struct kafka_struct_desc kafka_leave_group_response_desc;

struct kafka_offset_commit_request_offset_commit_request_partition {
	int32_t partition_index;             /* PartitionIndex, v0+ */
	int64_t committed_offset;            /* CommittedOffset, v0+ */
	int32_t committed_leader_epoch;      /* CommittedLeaderEpoch, v6+, default -1 */
	int64_t commit_timestamp;            /* CommitTimestamp, v1, default -1 */
	struct kafka_str committed_metadata; /* CommittedMetadata, v0+, nullable v0+ */
};
extern const struct kafka_struct_desc
	kafka_offset_commit_request_offset_commit_request_partition_desc;

struct kafka_offset_commit_request_offset_commit_request_topic {
	struct kafka_str name; /* Name, v0+ */
	KAFKA_ARRAY(struct kafka_offset_commit_request_offset_commit_request_partition)
	partitions; /* Partitions, v0+ */
};
extern const struct kafka_struct_desc kafka_offset_commit_request_offset_commit_request_topic_desc;

struct kafka_offset_commit_request {
	struct kafka_str group_id;             /* GroupId, v0+ */
	int32_t generation_id_or_member_epoch; /* GenerationIdOrMemberEpoch, v1+, default -1 */
	struct kafka_str member_id;            /* MemberId, v1+ */
	struct kafka_str group_instance_id; /* GroupInstanceId, v7+, nullable v7+, default null */
	int64_t retention_time_ms;          /* RetentionTimeMs, v2-4, default -1 */
	KAFKA_ARRAY(struct kafka_offset_commit_request_offset_commit_request_topic)
	topics; /* Topics, v0+ */
};
extern const struct kafka_struct_desc kafka_offset_commit_request_desc;

struct kafka_offset_commit_response_offset_commit_response_partition {
	int32_t partition_index; /* PartitionIndex, v0+ */
	int16_t error_code;      /* ErrorCode, v0+ */
};
extern const struct kafka_struct_desc
	kafka_offset_commit_response_offset_commit_response_partition_desc;

struct kafka_offset_commit_response_offset_commit_response_topic {
	struct kafka_str name; /* Name, v0+ */
	KAFKA_ARRAY(struct kafka_offset_commit_response_offset_commit_response_partition)
	partitions; /* Partitions, v0+ */
};
extern const struct kafka_struct_desc kafka_offset_commit_response_offset_commit_response_topic_desc;

struct kafka_offset_commit_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v3+ */
	KAFKA_ARRAY(struct kafka_offset_commit_response_offset_commit_response_topic)
	topics; /* Topics, v0+ */
};
extern const struct kafka_struct_desc kafka_offset_commit_response_desc;

struct kafka_offset_fetch_request_offset_fetch_request_topic {
	struct kafka_str name;                  /* Name, v0-7 */
	KAFKA_ARRAY(int32_t) partition_indexes; /* PartitionIndexes, v0-7 */
};
extern const struct kafka_struct_desc kafka_offset_fetch_request_offset_fetch_request_topic_desc;

struct kafka_offset_fetch_request_offset_fetch_request_topics {
	struct kafka_str name;                  /* Name, v8+ */
	KAFKA_ARRAY(int32_t) partition_indexes; /* PartitionIndexes, v8+ */
};
extern const struct kafka_struct_desc kafka_offset_fetch_request_offset_fetch_request_topics_desc;

struct kafka_offset_fetch_request_offset_fetch_request_group {
	struct kafka_str group_id;  /* GroupId, v8+ */
	struct kafka_str member_id; /* MemberId, v9+, nullable v9+, default null */
	int32_t member_epoch;       /* MemberEpoch, v9+, default -1 */
	KAFKA_ARRAY(struct kafka_offset_fetch_request_offset_fetch_request_topics)
	topics; /* Topics, v8+, nullable v8+ */
};
extern const struct kafka_struct_desc kafka_offset_fetch_request_offset_fetch_request_group_desc;

struct kafka_offset_fetch_request {
	struct kafka_str group_id; /* GroupId, v0-7 */
	KAFKA_ARRAY(struct kafka_offset_fetch_request_offset_fetch_request_topic)
	topics; /* Topics, v0-7, nullable v2-7 */
	KAFKA_ARRAY(struct kafka_offset_fetch_request_offset_fetch_request_group)
	groups;              /* Groups, v8+ */
	bool require_stable; /* RequireStable, v7+ */
};
extern const struct kafka_struct_desc kafka_offset_fetch_request_desc;

struct kafka_offset_fetch_response_offset_fetch_response_partition {
	int32_t partition_index;        /* PartitionIndex, v0-7 */
	int64_t committed_offset;       /* CommittedOffset, v0-7 */
	int32_t committed_leader_epoch; /* CommittedLeaderEpoch, v5-7, default -1 */
	struct kafka_str metadata;      /* Metadata, v0-7, nullable v0-7 */
	int16_t error_code;             /* ErrorCode, v0-7 */
};
extern const struct kafka_struct_desc
	kafka_offset_fetch_response_offset_fetch_response_partition_desc;

struct kafka_offset_fetch_response_offset_fetch_response_topic {
	struct kafka_str name; /* Name, v0-7 */
	KAFKA_ARRAY(struct kafka_offset_fetch_response_offset_fetch_response_partition)
	partitions; /* Partitions, v0-7 */
};
extern const struct kafka_struct_desc kafka_offset_fetch_response_offset_fetch_response_topic_desc;

struct kafka_offset_fetch_response_offset_fetch_response_partitions {
	int32_t partition_index;        /* PartitionIndex, v8+ */
	int64_t committed_offset;       /* CommittedOffset, v8+ */
	int32_t committed_leader_epoch; /* CommittedLeaderEpoch, v8+, default -1 */
	struct kafka_str metadata;      /* Metadata, v8+, nullable v8+ */
	int16_t error_code;             /* ErrorCode, v8+ */
};
extern const struct kafka_struct_desc
	kafka_offset_fetch_response_offset_fetch_response_partitions_desc;

struct kafka_offset_fetch_response_offset_fetch_response_topics {
	struct kafka_str name; /* Name, v8+ */
	KAFKA_ARRAY(struct kafka_offset_fetch_response_offset_fetch_response_partitions)
	partitions; /* Partitions, v8+ */
};
extern const struct kafka_struct_desc kafka_offset_fetch_response_offset_fetch_response_topics_desc;

struct kafka_offset_fetch_response_offset_fetch_response_group {
	struct kafka_str group_id; /* GroupId, v8+ */
	KAFKA_ARRAY(struct kafka_offset_fetch_response_offset_fetch_response_topics)
	topics;             /* Topics, v8+ */
	int16_t error_code; /* ErrorCode, v8+ */
};
extern const struct kafka_struct_desc kafka_offset_fetch_response_offset_fetch_response_group_desc;

struct kafka_offset_fetch_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v3+ */
	KAFKA_ARRAY(struct kafka_offset_fetch_response_offset_fetch_response_topic)
	topics;             /* Topics, v0-7 */
	int16_t error_code; /* ErrorCode, v2-7 */
	KAFKA_ARRAY(struct kafka_offset_fetch_response_offset_fetch_response_group)
	groups; /* Groups, v8+ */
};
extern const struct kafka_struct_desc kafka_offset_fetch_response_desc;

struct kafka_describe_groups_request {
	KAFKA_ARRAY(struct kafka_str) groups; /* Groups, v0+ */
	bool include_authorized_operations;   /* IncludeAuthorizedOperations, v3+ */
};
extern const struct kafka_struct_desc kafka_describe_groups_request_desc;

struct kafka_describe_groups_response_described_group_member {
	struct kafka_str member_id;           /* MemberId, v0+ */
	struct kafka_str group_instance_id;   /* GroupInstanceId, v4+, nullable v4+, default null */
	struct kafka_str client_id;           /* ClientId, v0+ */
	struct kafka_str client_host;         /* ClientHost, v0+ */
	struct kafka_bytes member_metadata;   /* MemberMetadata, v0+ */
	struct kafka_bytes member_assignment; /* MemberAssignment, v0+ */
};
extern const struct kafka_struct_desc kafka_describe_groups_response_described_group_member_desc;

struct kafka_describe_groups_response_described_group {
	int16_t error_code;             /* ErrorCode, v0+ */
	struct kafka_str group_id;      /* GroupId, v0+ */
	struct kafka_str group_state;   /* GroupState, v0+ */
	struct kafka_str protocol_type; /* ProtocolType, v0+ */
	struct kafka_str protocol_data; /* ProtocolData, v0+ */
	KAFKA_ARRAY(struct kafka_describe_groups_response_described_group_member)
	members;                       /* Members, v0+ */
	int32_t authorized_operations; /* AuthorizedOperations, v3+, default -2147483648 */
};
extern const struct kafka_struct_desc kafka_describe_groups_response_described_group_desc;

struct kafka_describe_groups_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v1+ */
	KAFKA_ARRAY(struct kafka_describe_groups_response_described_group) groups; /* Groups, v0+ */
};
extern const struct kafka_struct_desc kafka_describe_groups_response_desc;

struct kafka_list_groups_request {
	KAFKA_ARRAY(struct kafka_str) states_filter; /* StatesFilter, v4+ */
	KAFKA_ARRAY(struct kafka_str) types_filter;  /* TypesFilter, v5+ */
};
extern const struct kafka_struct_desc kafka_list_groups_request_desc;

struct kafka_list_groups_response_listed_group {
	struct kafka_str group_id;      /* GroupId, v0+ */
	struct kafka_str protocol_type; /* ProtocolType, v0+ */
	struct kafka_str group_state;   /* GroupState, v4+ */
	struct kafka_str group_type;    /* GroupType, v5+ */
};
extern const struct kafka_struct_desc kafka_list_groups_response_listed_group_desc;

struct kafka_list_groups_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v1+ */
	int16_t error_code;       /* ErrorCode, v0+ */
	KAFKA_ARRAY(struct kafka_list_groups_response_listed_group) groups; /* Groups, v0+ */
};
extern const struct kafka_struct_desc kafka_list_groups_response_desc;

struct kafka_delete_groups_request {
	KAFKA_ARRAY(struct kafka_str) groups_names; /* GroupsNames, v0+ */
};
extern const struct kafka_struct_desc kafka_delete_groups_request_desc;

struct kafka_delete_groups_response_deletable_group_result {
	struct kafka_str group_id; /* GroupId, v0+ */
	int16_t error_code;        /* ErrorCode, v0+ */
};
extern const struct kafka_struct_desc kafka_delete_groups_response_deletable_group_result_desc;

struct kafka_delete_groups_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v0+ */
	KAFKA_ARRAY(struct kafka_delete_groups_response_deletable_group_result)
	results; /* Results, v0+ */
};
extern const struct kafka_struct_desc kafka_delete_groups_response_desc;

struct kafka_offset_delete_request_offset_delete_request_partition {
	int32_t partition_index; /* PartitionIndex, v0+ */
};
extern const struct kafka_struct_desc
	kafka_offset_delete_request_offset_delete_request_partition_desc;

struct kafka_offset_delete_request_offset_delete_request_topic {
	struct kafka_str name; /* Name, v0+ */
	KAFKA_ARRAY(struct kafka_offset_delete_request_offset_delete_request_partition)
	partitions; /* Partitions, v0+ */
};
extern const struct kafka_struct_desc kafka_offset_delete_request_offset_delete_request_topic_desc;

struct kafka_offset_delete_request {
	struct kafka_str group_id; /* GroupId, v0+ */
	KAFKA_ARRAY(struct kafka_offset_delete_request_offset_delete_request_topic)
	topics; /* Topics, v0+ */
};
extern const struct kafka_struct_desc kafka_offset_delete_request_desc;

struct kafka_offset_delete_response_offset_delete_response_partition {
	int32_t partition_index; /* PartitionIndex, v0+ */
	int16_t error_code;      /* ErrorCode, v0+ */
};
extern const struct kafka_struct_desc
	kafka_offset_delete_response_offset_delete_response_partition_desc;

struct kafka_offset_delete_response_offset_delete_response_topic {
	struct kafka_str name; /* Name, v0+ */
	KAFKA_ARRAY(struct kafka_offset_delete_response_offset_delete_response_partition)
	partitions; /* Partitions, v0+ */
};
extern const struct kafka_struct_desc kafka_offset_delete_response_offset_delete_response_topic_desc;

struct kafka_offset_delete_response {
	int16_t error_code;       /* ErrorCode, v0+ */
	int32_t throttle_time_ms; /* ThrottleTimeMs, v0+ */
	KAFKA_ARRAY(struct kafka_offset_delete_response_offset_delete_response_topic)
	topics; /* Topics, v0+ */
};
extern const struct kafka_struct_desc kafka_offset_delete_response_desc;

struct kafka_create_partitions_request_create_partitions_assignment {
	KAFKA_ARRAY(int32_t) broker_ids; /* BrokerIds, v0+ */
};
extern const struct kafka_struct_desc
	kafka_create_partitions_request_create_partitions_assignment_desc;

struct kafka_create_partitions_request_create_partitions_topic {
	struct kafka_str name; /* Name, v0+ */
	int32_t count;         /* Count, v0+ */
	KAFKA_ARRAY(struct kafka_create_partitions_request_create_partitions_assignment)
	assignments; /* Assignments, v0+, nullable v0+ */
};
extern const struct kafka_struct_desc kafka_create_partitions_request_create_partitions_topic_desc;

struct kafka_create_partitions_request {
	KAFKA_ARRAY(struct kafka_create_partitions_request_create_partitions_topic)
	topics;             /* Topics, v0+ */
	int32_t timeout_ms; /* TimeoutMs, v0+ */
	bool validate_only; /* ValidateOnly, v0+ */
};
extern const struct kafka_struct_desc kafka_create_partitions_request_desc;

struct kafka_create_partitions_response_create_partitions_topic_result {
	struct kafka_str name;          /* Name, v0+ */
	int16_t error_code;             /* ErrorCode, v0+ */
	struct kafka_str error_message; /* ErrorMessage, v0+, nullable v0+, default null */
};
extern const struct kafka_struct_desc
	kafka_create_partitions_response_create_partitions_topic_result_desc;

struct kafka_create_partitions_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v0+ */
	KAFKA_ARRAY(struct kafka_create_partitions_response_create_partitions_topic_result)
	results; /* Results, v0+ */
};
extern const struct kafka_struct_desc kafka_create_partitions_response_desc;

/* UnregisterBroker (KIP-500; UnregisterBroker{Request,Response}.json, v0, flexible): remove a
 * broker from the cluster's metadata (`sluice nodes remove`). */
struct kafka_unregister_broker_request {
	int32_t broker_id; /* BrokerId, v0+ */
};
extern const struct kafka_struct_desc kafka_unregister_broker_request_desc;

struct kafka_unregister_broker_response {
	int32_t throttle_time_ms;       /* ThrottleTimeMs, v0+ */
	int16_t error_code;             /* ErrorCode, v0+ */
	struct kafka_str error_message; /* ErrorMessage, v0+, nullable v0+ */
};
extern const struct kafka_struct_desc kafka_unregister_broker_response_desc;

/* ElectLeaders (KIP-183, KIP-460): ask for the preferred replica (ElectionType 0) or any live
 * replica (1, "unclean") to become leader. */
struct kafka_elect_leaders_request_topic_partitions {
	struct kafka_str topic;            /* Topic, v0+ */
	KAFKA_ARRAY(int32_t) partition_id; /* PartitionId, v0+ */
};
extern const struct kafka_struct_desc kafka_elect_leaders_request_topic_partitions_desc;

struct kafka_elect_leaders_request {
	int8_t election_type; /* ElectionType, v1+ (0 = PREFERRED, 1 = UNCLEAN) */
	KAFKA_ARRAY(struct kafka_elect_leaders_request_topic_partitions)
	topic_partitions;   /* TopicPartitions, v0+, nullable v0+ (null = every partition) */
	int32_t timeout_ms; /* TimeoutMs, v0+, default 60000 */
};
extern const struct kafka_struct_desc kafka_elect_leaders_request_desc;

struct kafka_elect_leaders_response_partition_result {
	int32_t partition_id;           /* PartitionId, v0+ */
	int16_t error_code;             /* ErrorCode, v0+ */
	struct kafka_str error_message; /* ErrorMessage, v0+, nullable v0+ */
};
extern const struct kafka_struct_desc kafka_elect_leaders_response_partition_result_desc;

struct kafka_elect_leaders_response_replica_election_result {
	struct kafka_str topic; /* Topic, v0+ */
	KAFKA_ARRAY(struct kafka_elect_leaders_response_partition_result)
	partition_result; /* PartitionResult, v0+ */
};
extern const struct kafka_struct_desc kafka_elect_leaders_response_replica_election_result_desc;

struct kafka_elect_leaders_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v0+ */
	int16_t error_code;       /* ErrorCode, v1+ */
	KAFKA_ARRAY(struct kafka_elect_leaders_response_replica_election_result)
	replica_election_results; /* ReplicaElectionResults, v0+ */
};
extern const struct kafka_struct_desc kafka_elect_leaders_response_desc;

/* AlterPartitionReassignments (KIP-455): give partitions a new replica list (Replicas[0] is the
 * preferred leader), or cancel a pending move with a null list. v0 only, flexible. */
struct kafka_alter_partition_reassignments_request_reassignable_partition {
	int32_t partition_index;       /* PartitionIndex, v0+ */
	KAFKA_ARRAY(int32_t) replicas; /* Replicas, v0+, nullable v0+, default null (= cancel) */
};
extern const struct kafka_struct_desc
	kafka_alter_partition_reassignments_request_reassignable_partition_desc;

struct kafka_alter_partition_reassignments_request_reassignable_topic {
	struct kafka_str name; /* Name, v0+ */
	KAFKA_ARRAY(struct kafka_alter_partition_reassignments_request_reassignable_partition)
	partitions; /* Partitions, v0+ */
};
extern const struct kafka_struct_desc
	kafka_alter_partition_reassignments_request_reassignable_topic_desc;

struct kafka_alter_partition_reassignments_request {
	int32_t timeout_ms; /* TimeoutMs, v0+, default 60000 */
	KAFKA_ARRAY(struct kafka_alter_partition_reassignments_request_reassignable_topic)
	topics; /* Topics, v0+ */
};
extern const struct kafka_struct_desc kafka_alter_partition_reassignments_request_desc;

struct kafka_alter_partition_reassignments_response_reassignable_partition_response {
	int32_t partition_index;        /* PartitionIndex, v0+ */
	int16_t error_code;             /* ErrorCode, v0+ */
	struct kafka_str error_message; /* ErrorMessage, v0+, nullable v0+ */
};
extern const struct kafka_struct_desc
	kafka_alter_partition_reassignments_response_reassignable_partition_response_desc;

struct kafka_alter_partition_reassignments_response_reassignable_topic_response {
	struct kafka_str name; /* Name, v0+ */
	KAFKA_ARRAY(struct kafka_alter_partition_reassignments_response_reassignable_partition_response)
	partitions; /* Partitions, v0+ */
};
extern const struct kafka_struct_desc
	kafka_alter_partition_reassignments_response_reassignable_topic_response_desc;

struct kafka_alter_partition_reassignments_response {
	int32_t throttle_time_ms;       /* ThrottleTimeMs, v0+ */
	int16_t error_code;             /* ErrorCode, v0+ */
	struct kafka_str error_message; /* ErrorMessage, v0+, nullable v0+ */
	KAFKA_ARRAY(struct kafka_alter_partition_reassignments_response_reassignable_topic_response)
	responses; /* Responses, v0+ */
};
extern const struct kafka_struct_desc kafka_alter_partition_reassignments_response_desc;

/* ListPartitionReassignments (KIP-455): the partitions whose replicas are being moved, with the
 * replicas being added and removed. v0 only, flexible. */
struct kafka_list_partition_reassignments_request_list_partition_reassignments_topics {
	struct kafka_str name;                 /* Name, v0+ */
	KAFKA_ARRAY(int32_t) partition_indexes; /* PartitionIndexes, v0+ */
};
extern const struct kafka_struct_desc
	kafka_list_partition_reassignments_request_list_partition_reassignments_topics_desc;

struct kafka_list_partition_reassignments_request {
	int32_t timeout_ms; /* TimeoutMs, v0+, default 60000 */
	KAFKA_ARRAY(struct kafka_list_partition_reassignments_request_list_partition_reassignments_topics)
	topics; /* Topics, v0+, nullable v0+, default null (= every partition) */
};
extern const struct kafka_struct_desc kafka_list_partition_reassignments_request_desc;

struct kafka_list_partition_reassignments_response_ongoing_partition_reassignment {
	int32_t partition_index;                /* PartitionIndex, v0+ */
	KAFKA_ARRAY(int32_t) replicas;          /* Replicas, v0+ */
	KAFKA_ARRAY(int32_t) adding_replicas;   /* AddingReplicas, v0+ */
	KAFKA_ARRAY(int32_t) removing_replicas; /* RemovingReplicas, v0+ */
};
extern const struct kafka_struct_desc
	kafka_list_partition_reassignments_response_ongoing_partition_reassignment_desc;

struct kafka_list_partition_reassignments_response_ongoing_topic_reassignment {
	struct kafka_str name; /* Name, v0+ */
	KAFKA_ARRAY(struct kafka_list_partition_reassignments_response_ongoing_partition_reassignment)
	partitions; /* Partitions, v0+ */
};
extern const struct kafka_struct_desc
	kafka_list_partition_reassignments_response_ongoing_topic_reassignment_desc;

struct kafka_list_partition_reassignments_response {
	int32_t throttle_time_ms;       /* ThrottleTimeMs, v0+ */
	int16_t error_code;             /* ErrorCode, v0+ */
	struct kafka_str error_message; /* ErrorMessage, v0+, nullable v0+ */
	KAFKA_ARRAY(struct kafka_list_partition_reassignments_response_ongoing_topic_reassignment)
	topics; /* Topics, v0+ */
};
extern const struct kafka_struct_desc kafka_list_partition_reassignments_response_desc;

struct kafka_sasl_handshake_request {
	struct kafka_str mechanism; /* Mechanism, v0+ */
};
extern const struct kafka_struct_desc kafka_sasl_handshake_request_desc;

struct kafka_sasl_handshake_response {
	int16_t error_code;                       /* ErrorCode, v0+ */
	KAFKA_ARRAY(struct kafka_str) mechanisms; /* Mechanisms, v0+ */
};
extern const struct kafka_struct_desc kafka_sasl_handshake_response_desc;

struct kafka_consumer_group_heartbeat_request_topic_partitions {
	struct kafka_uuid topic_id;      /* TopicId, v0+ */
	KAFKA_ARRAY(int32_t) partitions; /* Partitions, v0+ */
};
extern const struct kafka_struct_desc kafka_consumer_group_heartbeat_request_topic_partitions_desc;

struct kafka_consumer_group_heartbeat_request {
	struct kafka_str group_id;    /* GroupId, v0+ */
	struct kafka_str member_id;   /* MemberId, v0+ */
	int32_t member_epoch;         /* MemberEpoch, v0+ */
	struct kafka_str instance_id; /* InstanceId, v0+, nullable v0+, default null */
	struct kafka_str rack_id;     /* RackId, v0+, nullable v0+, default null */
	int32_t rebalance_timeout_ms; /* RebalanceTimeoutMs, v0+, default -1 */
	KAFKA_ARRAY(struct kafka_str)
	subscribed_topic_names; /* SubscribedTopicNames, v0+, nullable v0+, default null */
	struct kafka_str
		subscribed_topic_regex; /* SubscribedTopicRegex, v1+, nullable v1+, default null */
	struct kafka_str server_assignor; /* ServerAssignor, v0+, nullable v0+, default null */
	KAFKA_ARRAY(struct kafka_consumer_group_heartbeat_request_topic_partitions)
	topic_partitions; /* TopicPartitions, v0+, nullable v0+, default null */
};
extern const struct kafka_struct_desc kafka_consumer_group_heartbeat_request_desc;

struct kafka_consumer_group_heartbeat_response_topic_partitions {
	struct kafka_uuid topic_id;      /* TopicId, v0+ */
	KAFKA_ARRAY(int32_t) partitions; /* Partitions, v0+ */
};
extern const struct kafka_struct_desc kafka_consumer_group_heartbeat_response_topic_partitions_desc;

struct kafka_consumer_group_heartbeat_response_assignment {
	KAFKA_ARRAY(struct kafka_consumer_group_heartbeat_response_topic_partitions)
	topic_partitions; /* TopicPartitions, v0+ */
};
extern const struct kafka_struct_desc kafka_consumer_group_heartbeat_response_assignment_desc;

struct kafka_consumer_group_heartbeat_response {
	int32_t throttle_time_ms;       /* ThrottleTimeMs, v0+ */
	int16_t error_code;             /* ErrorCode, v0+ */
	struct kafka_str error_message; /* ErrorMessage, v0+, nullable v0+, default null */
	struct kafka_str member_id;     /* MemberId, v0+, nullable v0+, default null */
	int32_t member_epoch;           /* MemberEpoch, v0+ */
	int32_t heartbeat_interval_ms;  /* HeartbeatIntervalMs, v0+ */
	struct kafka_consumer_group_heartbeat_response_assignment
		*assignment; /* Assignment, v0+, nullable v0+, default null */
};
extern const struct kafka_struct_desc kafka_consumer_group_heartbeat_response_desc;

struct kafka_consumer_group_describe_request {
	KAFKA_ARRAY(struct kafka_str) group_ids; /* GroupIds, v0+ */
	bool include_authorized_operations;      /* IncludeAuthorizedOperations, v0+ */
};
extern const struct kafka_struct_desc kafka_consumer_group_describe_request_desc;

struct kafka_consumer_group_describe_response_topic_partitions {
	struct kafka_uuid topic_id;      /* TopicId, v0+ */
	struct kafka_str topic_name;     /* TopicName, v0+ */
	KAFKA_ARRAY(int32_t) partitions; /* Partitions, v0+ */
};
extern const struct kafka_struct_desc kafka_consumer_group_describe_response_topic_partitions_desc;

struct kafka_consumer_group_describe_response_assignment {
	KAFKA_ARRAY(struct kafka_consumer_group_describe_response_topic_partitions)
	topic_partitions; /* TopicPartitions, v0+ */
};
extern const struct kafka_struct_desc kafka_consumer_group_describe_response_assignment_desc;

struct kafka_consumer_group_describe_response_member {
	struct kafka_str member_id;   /* MemberId, v0+ */
	struct kafka_str instance_id; /* InstanceId, v0+, nullable v0+, default null */
	struct kafka_str rack_id;     /* RackId, v0+, nullable v0+, default null */
	int32_t member_epoch;         /* MemberEpoch, v0+ */
	struct kafka_str client_id;   /* ClientId, v0+ */
	struct kafka_str client_host; /* ClientHost, v0+ */
	KAFKA_ARRAY(struct kafka_str) subscribed_topic_names; /* SubscribedTopicNames, v0+ */
	struct kafka_str
		subscribed_topic_regex; /* SubscribedTopicRegex, v0+, nullable v0+, default null */
	struct kafka_consumer_group_describe_response_assignment assignment; /* Assignment, v0+ */
	struct kafka_consumer_group_describe_response_assignment
		target_assignment; /* TargetAssignment, v0+ */
};
extern const struct kafka_struct_desc kafka_consumer_group_describe_response_member_desc;

struct kafka_consumer_group_describe_response_described_group {
	int16_t error_code;             /* ErrorCode, v0+ */
	struct kafka_str error_message; /* ErrorMessage, v0+, nullable v0+, default null */
	struct kafka_str group_id;      /* GroupId, v0+ */
	struct kafka_str group_state;   /* GroupState, v0+ */
	int32_t group_epoch;            /* GroupEpoch, v0+ */
	int32_t assignment_epoch;       /* AssignmentEpoch, v0+ */
	struct kafka_str assignor_name; /* AssignorName, v0+ */
	KAFKA_ARRAY(struct kafka_consumer_group_describe_response_member)
	members;                       /* Members, v0+ */
	int32_t authorized_operations; /* AuthorizedOperations, v0+, default -2147483648 */
};
extern const struct kafka_struct_desc kafka_consumer_group_describe_response_described_group_desc;

struct kafka_consumer_group_describe_response {
	int32_t throttle_time_ms; /* ThrottleTimeMs, v0+ */
	KAFKA_ARRAY(struct kafka_consumer_group_describe_response_described_group)
	groups; /* Groups, v0+ */
};
extern const struct kafka_struct_desc kafka_consumer_group_describe_response_desc;

#endif
