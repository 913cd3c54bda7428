/*
 * messages: the field-descriptor tables of every message (see messages.h for the conventions).
 *
 * Each row reads: schema name, C member, type, array element type, versions, nullable versions
 * (1, 0 = never), tag (-1 = not tagged), default, child struct.
 */
#include "kafka/messages.h"

#include <stddef.h>
#include <stdint.h>

#include "kafka/kafka.h"

static const struct kafka_field kafka_api_versions_request_fields[] = {
	{ "ClientSoftwareName", offsetof(struct kafka_api_versions_request, client_software_name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
	{ "ClientSoftwareVersion",
	  offsetof(struct kafka_api_versions_request, client_software_version), KAFKA_T_STRING,
	  KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_api_versions_request_desc = {
	"kafka_api_versions_request", kafka_api_versions_request_fields, 2,
	sizeof(struct kafka_api_versions_request)
};

static const struct kafka_field kafka_api_versions_response_api_version_fields[] = {
	{ "ApiKey", offsetof(struct kafka_api_versions_response_api_version, api_key),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "MinVersion", offsetof(struct kafka_api_versions_response_api_version, min_version),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "MaxVersion", offsetof(struct kafka_api_versions_response_api_version, max_version),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_api_versions_response_api_version_desc = {
	"kafka_api_versions_response_api_version", kafka_api_versions_response_api_version_fields,
	3, sizeof(struct kafka_api_versions_response_api_version)
};

static const struct kafka_field kafka_api_versions_response_supported_feature_key_fields[] = {
	{ "Name", offsetof(struct kafka_api_versions_response_supported_feature_key, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
	{ "MinVersion",
	  offsetof(struct kafka_api_versions_response_supported_feature_key, min_version),
	  KAFKA_T_INT16, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
	{ "MaxVersion",
	  offsetof(struct kafka_api_versions_response_supported_feature_key, max_version),
	  KAFKA_T_INT16, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_api_versions_response_supported_feature_key_desc = {
	"kafka_api_versions_response_supported_feature_key",
	kafka_api_versions_response_supported_feature_key_fields, 3,
	sizeof(struct kafka_api_versions_response_supported_feature_key)
};

static const struct kafka_field kafka_api_versions_response_finalized_feature_key_fields[] = {
	{ "Name", offsetof(struct kafka_api_versions_response_finalized_feature_key, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
	{ "MaxVersionLevel",
	  offsetof(struct kafka_api_versions_response_finalized_feature_key, max_version_level),
	  KAFKA_T_INT16, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
	{ "MinVersionLevel",
	  offsetof(struct kafka_api_versions_response_finalized_feature_key, min_version_level),
	  KAFKA_T_INT16, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_api_versions_response_finalized_feature_key_desc = {
	"kafka_api_versions_response_finalized_feature_key",
	kafka_api_versions_response_finalized_feature_key_fields, 3,
	sizeof(struct kafka_api_versions_response_finalized_feature_key)
};

static const struct kafka_field kafka_api_versions_response_fields[] = {
	{ "ErrorCode", offsetof(struct kafka_api_versions_response, error_code), KAFKA_T_INT16,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ApiKeys", offsetof(struct kafka_api_versions_response, api_keys), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0, &kafka_api_versions_response_api_version_desc },
	{ "ThrottleTimeMs", offsetof(struct kafka_api_versions_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "SupportedFeatures", offsetof(struct kafka_api_versions_response, supported_features),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 3, 32767, 1, 0, 0, 0,
	  &kafka_api_versions_response_supported_feature_key_desc },
	{ "FinalizedFeaturesEpoch",
	  offsetof(struct kafka_api_versions_response, finalized_features_epoch), KAFKA_T_INT64,
	  KAFKA_T_NONE, 3, 32767, 1, 0, 1, -1, NULL },
	{ "FinalizedFeatures", offsetof(struct kafka_api_versions_response, finalized_features),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 3, 32767, 1, 0, 2, 0,
	  &kafka_api_versions_response_finalized_feature_key_desc },
	{ "ZkMigrationReady", offsetof(struct kafka_api_versions_response, zk_migration_ready),
	  KAFKA_T_BOOL, KAFKA_T_NONE, 3, 32767, 1, 0, 3, 0, NULL },
};
const struct kafka_struct_desc kafka_api_versions_response_desc = {
	"kafka_api_versions_response", kafka_api_versions_response_fields, 7,
	sizeof(struct kafka_api_versions_response)
};

static const struct kafka_field kafka_metadata_request_metadata_request_topic_fields[] = {
	{ "TopicId", offsetof(struct kafka_metadata_request_metadata_request_topic, topic_id),
	  KAFKA_T_UUID, KAFKA_T_NONE, 10, 32767, 1, 0, -1, 0, NULL },
	{ "Name", offsetof(struct kafka_metadata_request_metadata_request_topic, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 10, 32767, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_metadata_request_metadata_request_topic_desc = {
	"kafka_metadata_request_metadata_request_topic",
	kafka_metadata_request_metadata_request_topic_fields, 2,
	sizeof(struct kafka_metadata_request_metadata_request_topic)
};

static const struct kafka_field kafka_metadata_request_fields[] = {
	{ "Topics", offsetof(struct kafka_metadata_request, topics), KAFKA_T_ARRAY, KAFKA_T_STRUCT,
	  0, 32767, 1, 32767, -1, 0, &kafka_metadata_request_metadata_request_topic_desc },
	{ "AllowAutoTopicCreation",
	  offsetof(struct kafka_metadata_request, allow_auto_topic_creation), KAFKA_T_BOOL,
	  KAFKA_T_NONE, 4, 32767, 1, 0, -1, 1, NULL },
	{ "IncludeClusterAuthorizedOperations",
	  offsetof(struct kafka_metadata_request, include_cluster_authorized_operations),
	  KAFKA_T_BOOL, KAFKA_T_NONE, 8, 10, 1, 0, -1, 0, NULL },
	{ "IncludeTopicAuthorizedOperations",
	  offsetof(struct kafka_metadata_request, include_topic_authorized_operations),
	  KAFKA_T_BOOL, KAFKA_T_NONE, 8, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_metadata_request_desc = {
	"kafka_metadata_request", kafka_metadata_request_fields, 4,
	sizeof(struct kafka_metadata_request)
};

static const struct kafka_field kafka_metadata_response_metadata_response_broker_fields[] = {
	{ "NodeId", offsetof(struct kafka_metadata_response_metadata_response_broker, node_id),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Host", offsetof(struct kafka_metadata_response_metadata_response_broker, host),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Port", offsetof(struct kafka_metadata_response_metadata_response_broker, port),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Rack", offsetof(struct kafka_metadata_response_metadata_response_broker, rack),
	  KAFKA_T_STRING, KAFKA_T_NONE, 1, 32767, 1, 32767, -1, 1, NULL },
};
const struct kafka_struct_desc kafka_metadata_response_metadata_response_broker_desc = {
	"kafka_metadata_response_metadata_response_broker",
	kafka_metadata_response_metadata_response_broker_fields, 4,
	sizeof(struct kafka_metadata_response_metadata_response_broker)
};

static const struct kafka_field kafka_metadata_response_metadata_response_partition_fields[] = {
	{ "ErrorCode",
	  offsetof(struct kafka_metadata_response_metadata_response_partition, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "PartitionIndex",
	  offsetof(struct kafka_metadata_response_metadata_response_partition, partition_index),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "LeaderId",
	  offsetof(struct kafka_metadata_response_metadata_response_partition, leader_id),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "LeaderEpoch",
	  offsetof(struct kafka_metadata_response_metadata_response_partition, leader_epoch),
	  KAFKA_T_INT32, KAFKA_T_NONE, 7, 32767, 1, 0, -1, -1, NULL },
	{ "ReplicaNodes",
	  offsetof(struct kafka_metadata_response_metadata_response_partition, replica_nodes),
	  KAFKA_T_ARRAY, KAFKA_T_INT32, 0, 32767, 1, 0, -1, 0, NULL },
	{ "IsrNodes",
	  offsetof(struct kafka_metadata_response_metadata_response_partition, isr_nodes),
	  KAFKA_T_ARRAY, KAFKA_T_INT32, 0, 32767, 1, 0, -1, 0, NULL },
	{ "OfflineReplicas",
	  offsetof(struct kafka_metadata_response_metadata_response_partition, offline_replicas),
	  KAFKA_T_ARRAY, KAFKA_T_INT32, 5, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_metadata_response_metadata_response_partition_desc = {
	"kafka_metadata_response_metadata_response_partition",
	kafka_metadata_response_metadata_response_partition_fields, 7,
	sizeof(struct kafka_metadata_response_metadata_response_partition)
};

static const struct kafka_field kafka_metadata_response_metadata_response_topic_fields[] = {
	{ "ErrorCode", offsetof(struct kafka_metadata_response_metadata_response_topic, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Name", offsetof(struct kafka_metadata_response_metadata_response_topic, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 12, 32767, -1, 0, NULL },
	{ "TopicId", offsetof(struct kafka_metadata_response_metadata_response_topic, topic_id),
	  KAFKA_T_UUID, KAFKA_T_NONE, 10, 32767, 1, 0, -1, 0, NULL },
	{ "IsInternal",
	  offsetof(struct kafka_metadata_response_metadata_response_topic, is_internal),
	  KAFKA_T_BOOL, KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "Partitions",
	  offsetof(struct kafka_metadata_response_metadata_response_topic, partitions),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_metadata_response_metadata_response_partition_desc },
	{ "TopicAuthorizedOperations",
	  offsetof(struct kafka_metadata_response_metadata_response_topic,
		   topic_authorized_operations),
	  KAFKA_T_INT32, KAFKA_T_NONE, 8, 32767, 1, 0, -1, INT32_MIN, NULL },
};
const struct kafka_struct_desc kafka_metadata_response_metadata_response_topic_desc = {
	"kafka_metadata_response_metadata_response_topic",
	kafka_metadata_response_metadata_response_topic_fields, 6,
	sizeof(struct kafka_metadata_response_metadata_response_topic)
};

static const struct kafka_field kafka_metadata_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_metadata_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
	{ "Brokers", offsetof(struct kafka_metadata_response, brokers), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_metadata_response_metadata_response_broker_desc },
	{ "ClusterId", offsetof(struct kafka_metadata_response, cluster_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 2, 32767, 2, 32767, -1, 1, NULL },
	{ "ControllerId", offsetof(struct kafka_metadata_response, controller_id), KAFKA_T_INT32,
	  KAFKA_T_NONE, 1, 32767, 1, 0, -1, -1, NULL },
	{ "Topics", offsetof(struct kafka_metadata_response, topics), KAFKA_T_ARRAY, KAFKA_T_STRUCT,
	  0, 32767, 1, 0, -1, 0, &kafka_metadata_response_metadata_response_topic_desc },
	{ "ClusterAuthorizedOperations",
	  offsetof(struct kafka_metadata_response, cluster_authorized_operations), KAFKA_T_INT32,
	  KAFKA_T_NONE, 8, 10, 1, 0, -1, INT32_MIN, NULL },
};
const struct kafka_struct_desc kafka_metadata_response_desc = {
	"kafka_metadata_response", kafka_metadata_response_fields, 6,
	sizeof(struct kafka_metadata_response)
};

static const struct kafka_field kafka_produce_request_partition_produce_data_fields[] = {
	{ "Index", offsetof(struct kafka_produce_request_partition_produce_data, index),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Records", offsetof(struct kafka_produce_request_partition_produce_data, records),
	  KAFKA_T_RECORDS, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_produce_request_partition_produce_data_desc = {
	"kafka_produce_request_partition_produce_data",
	kafka_produce_request_partition_produce_data_fields, 2,
	sizeof(struct kafka_produce_request_partition_produce_data)
};

static const struct kafka_field kafka_produce_request_topic_produce_data_fields[] = {
	{ "Name", offsetof(struct kafka_produce_request_topic_produce_data, name), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "PartitionData",
	  offsetof(struct kafka_produce_request_topic_produce_data, partition_data), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_produce_request_partition_produce_data_desc },
};
const struct kafka_struct_desc kafka_produce_request_topic_produce_data_desc = {
	"kafka_produce_request_topic_produce_data", kafka_produce_request_topic_produce_data_fields,
	2, sizeof(struct kafka_produce_request_topic_produce_data)
};

static const struct kafka_field kafka_produce_request_fields[] = {
	{ "TransactionalId", offsetof(struct kafka_produce_request, transactional_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 3, 32767, 3, 32767, -1, 1, NULL },
	{ "Acks", offsetof(struct kafka_produce_request, acks), KAFKA_T_INT16, KAFKA_T_NONE, 0,
	  32767, 1, 0, -1, 0, NULL },
	{ "TimeoutMs", offsetof(struct kafka_produce_request, timeout_ms), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "TopicData", offsetof(struct kafka_produce_request, topic_data), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0, &kafka_produce_request_topic_produce_data_desc },
};
const struct kafka_struct_desc kafka_produce_request_desc = {
	"kafka_produce_request", kafka_produce_request_fields, 4,
	sizeof(struct kafka_produce_request)
};

static const struct kafka_field kafka_produce_response_batch_index_and_error_message_fields[] = {
	{ "BatchIndex",
	  offsetof(struct kafka_produce_response_batch_index_and_error_message, batch_index),
	  KAFKA_T_INT32, KAFKA_T_NONE, 8, 32767, 1, 0, -1, 0, NULL },
	{ "BatchIndexErrorMessage",
	  offsetof(struct kafka_produce_response_batch_index_and_error_message,
		   batch_index_error_message),
	  KAFKA_T_STRING, KAFKA_T_NONE, 8, 32767, 8, 32767, -1, 1, NULL },
};
const struct kafka_struct_desc kafka_produce_response_batch_index_and_error_message_desc = {
	"kafka_produce_response_batch_index_and_error_message",
	kafka_produce_response_batch_index_and_error_message_fields, 2,
	sizeof(struct kafka_produce_response_batch_index_and_error_message)
};

static const struct kafka_field kafka_produce_response_leader_id_and_epoch_fields[] = {
	{ "LeaderId", offsetof(struct kafka_produce_response_leader_id_and_epoch, leader_id),
	  KAFKA_T_INT32, KAFKA_T_NONE, 10, 32767, 1, 0, -1, -1, NULL },
	{ "LeaderEpoch", offsetof(struct kafka_produce_response_leader_id_and_epoch, leader_epoch),
	  KAFKA_T_INT32, KAFKA_T_NONE, 10, 32767, 1, 0, -1, -1, NULL },
};
const struct kafka_struct_desc kafka_produce_response_leader_id_and_epoch_desc = {
	"kafka_produce_response_leader_id_and_epoch",
	kafka_produce_response_leader_id_and_epoch_fields, 2,
	sizeof(struct kafka_produce_response_leader_id_and_epoch)
};

static const struct kafka_field kafka_produce_response_partition_produce_response_fields[] = {
	{ "Index", offsetof(struct kafka_produce_response_partition_produce_response, index),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode",
	  offsetof(struct kafka_produce_response_partition_produce_response, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "BaseOffset",
	  offsetof(struct kafka_produce_response_partition_produce_response, base_offset),
	  KAFKA_T_INT64, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "LogAppendTimeMs",
	  offsetof(struct kafka_produce_response_partition_produce_response, log_append_time_ms),
	  KAFKA_T_INT64, KAFKA_T_NONE, 2, 32767, 1, 0, -1, -1, NULL },
	{ "LogStartOffset",
	  offsetof(struct kafka_produce_response_partition_produce_response, log_start_offset),
	  KAFKA_T_INT64, KAFKA_T_NONE, 5, 32767, 1, 0, -1, -1, NULL },
	{ "RecordErrors",
	  offsetof(struct kafka_produce_response_partition_produce_response, record_errors),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 8, 32767, 1, 0, -1, 0,
	  &kafka_produce_response_batch_index_and_error_message_desc },
	{ "ErrorMessage",
	  offsetof(struct kafka_produce_response_partition_produce_response, error_message),
	  KAFKA_T_STRING, KAFKA_T_NONE, 8, 32767, 8, 32767, -1, 1, NULL },
	{ "CurrentLeader",
	  offsetof(struct kafka_produce_response_partition_produce_response, current_leader),
	  KAFKA_T_STRUCT, KAFKA_T_NONE, 10, 32767, 1, 0, 0, 0,
	  &kafka_produce_response_leader_id_and_epoch_desc },
};
const struct kafka_struct_desc kafka_produce_response_partition_produce_response_desc = {
	"kafka_produce_response_partition_produce_response",
	kafka_produce_response_partition_produce_response_fields, 8,
	sizeof(struct kafka_produce_response_partition_produce_response)
};

static const struct kafka_field kafka_produce_response_topic_produce_response_fields[] = {
	{ "Name", offsetof(struct kafka_produce_response_topic_produce_response, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "PartitionResponses",
	  offsetof(struct kafka_produce_response_topic_produce_response, partition_responses),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_produce_response_partition_produce_response_desc },
};
const struct kafka_struct_desc kafka_produce_response_topic_produce_response_desc = {
	"kafka_produce_response_topic_produce_response",
	kafka_produce_response_topic_produce_response_fields, 2,
	sizeof(struct kafka_produce_response_topic_produce_response)
};

static const struct kafka_field kafka_produce_response_node_endpoint_fields[] = {
	{ "NodeId", offsetof(struct kafka_produce_response_node_endpoint, node_id), KAFKA_T_INT32,
	  KAFKA_T_NONE, 10, 32767, 1, 0, -1, 0, NULL },
	{ "Host", offsetof(struct kafka_produce_response_node_endpoint, host), KAFKA_T_STRING,
	  KAFKA_T_NONE, 10, 32767, 1, 0, -1, 0, NULL },
	{ "Port", offsetof(struct kafka_produce_response_node_endpoint, port), KAFKA_T_INT32,
	  KAFKA_T_NONE, 10, 32767, 1, 0, -1, 0, NULL },
	{ "Rack", offsetof(struct kafka_produce_response_node_endpoint, rack), KAFKA_T_STRING,
	  KAFKA_T_NONE, 10, 32767, 10, 32767, -1, 1, NULL },
};
const struct kafka_struct_desc kafka_produce_response_node_endpoint_desc = {
	"kafka_produce_response_node_endpoint", kafka_produce_response_node_endpoint_fields, 4,
	sizeof(struct kafka_produce_response_node_endpoint)
};

static const struct kafka_field kafka_produce_response_fields[] = {
	{ "Responses", offsetof(struct kafka_produce_response, responses), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_produce_response_topic_produce_response_desc },
	{ "ThrottleTimeMs", offsetof(struct kafka_produce_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "NodeEndpoints", offsetof(struct kafka_produce_response, node_endpoints), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 10, 32767, 1, 0, 0, 0, &kafka_produce_response_node_endpoint_desc },
};
const struct kafka_struct_desc kafka_produce_response_desc = {
	"kafka_produce_response", kafka_produce_response_fields, 3,
	sizeof(struct kafka_produce_response)
};

static const struct kafka_field kafka_fetch_request_replica_state_fields[] = {
	{ "ReplicaId", offsetof(struct kafka_fetch_request_replica_state, replica_id),
	  KAFKA_T_INT32, KAFKA_T_NONE, 15, 32767, 1, 0, -1, -1, NULL },
	{ "ReplicaEpoch", offsetof(struct kafka_fetch_request_replica_state, replica_epoch),
	  KAFKA_T_INT64, KAFKA_T_NONE, 15, 32767, 1, 0, -1, -1, NULL },
};
const struct kafka_struct_desc kafka_fetch_request_replica_state_desc = {
	"kafka_fetch_request_replica_state", kafka_fetch_request_replica_state_fields, 2,
	sizeof(struct kafka_fetch_request_replica_state)
};

static const struct kafka_field kafka_fetch_request_fetch_partition_fields[] = {
	{ "Partition", offsetof(struct kafka_fetch_request_fetch_partition, partition),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "CurrentLeaderEpoch",
	  offsetof(struct kafka_fetch_request_fetch_partition, current_leader_epoch), KAFKA_T_INT32,
	  KAFKA_T_NONE, 9, 32767, 1, 0, -1, -1, NULL },
	{ "FetchOffset", offsetof(struct kafka_fetch_request_fetch_partition, fetch_offset),
	  KAFKA_T_INT64, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "LastFetchedEpoch",
	  offsetof(struct kafka_fetch_request_fetch_partition, last_fetched_epoch), KAFKA_T_INT32,
	  KAFKA_T_NONE, 12, 32767, 1, 0, -1, -1, NULL },
	{ "LogStartOffset", offsetof(struct kafka_fetch_request_fetch_partition, log_start_offset),
	  KAFKA_T_INT64, KAFKA_T_NONE, 5, 32767, 1, 0, -1, -1, NULL },
	{ "PartitionMaxBytes",
	  offsetof(struct kafka_fetch_request_fetch_partition, partition_max_bytes), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ReplicaDirectoryId",
	  offsetof(struct kafka_fetch_request_fetch_partition, replica_directory_id), KAFKA_T_UUID,
	  KAFKA_T_NONE, 17, 32767, 1, 0, 0, 0, NULL },
};
const struct kafka_struct_desc kafka_fetch_request_fetch_partition_desc = {
	"kafka_fetch_request_fetch_partition", kafka_fetch_request_fetch_partition_fields, 7,
	sizeof(struct kafka_fetch_request_fetch_partition)
};

static const struct kafka_field kafka_fetch_request_fetch_topic_fields[] = {
	{ "Topic", offsetof(struct kafka_fetch_request_fetch_topic, topic), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 12, 1, 0, -1, 0, NULL },
	{ "TopicId", offsetof(struct kafka_fetch_request_fetch_topic, topic_id), KAFKA_T_UUID,
	  KAFKA_T_NONE, 13, 32767, 1, 0, -1, 0, NULL },
	{ "Partitions", offsetof(struct kafka_fetch_request_fetch_topic, partitions), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0, &kafka_fetch_request_fetch_partition_desc },
};
const struct kafka_struct_desc kafka_fetch_request_fetch_topic_desc = {
	"kafka_fetch_request_fetch_topic", kafka_fetch_request_fetch_topic_fields, 3,
	sizeof(struct kafka_fetch_request_fetch_topic)
};

static const struct kafka_field kafka_fetch_request_forgotten_topic_fields[] = {
	{ "Topic", offsetof(struct kafka_fetch_request_forgotten_topic, topic), KAFKA_T_STRING,
	  KAFKA_T_NONE, 7, 12, 1, 0, -1, 0, NULL },
	{ "TopicId", offsetof(struct kafka_fetch_request_forgotten_topic, topic_id), KAFKA_T_UUID,
	  KAFKA_T_NONE, 13, 32767, 1, 0, -1, 0, NULL },
	{ "Partitions", offsetof(struct kafka_fetch_request_forgotten_topic, partitions),
	  KAFKA_T_ARRAY, KAFKA_T_INT32, 7, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_fetch_request_forgotten_topic_desc = {
	"kafka_fetch_request_forgotten_topic", kafka_fetch_request_forgotten_topic_fields, 3,
	sizeof(struct kafka_fetch_request_forgotten_topic)
};

static const struct kafka_field kafka_fetch_request_fields[] = {
	{ "ReplicaId", offsetof(struct kafka_fetch_request, replica_id), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 14, 1, 0, -1, -1, NULL },
	{ "MaxWaitMs", offsetof(struct kafka_fetch_request, max_wait_ms), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "MinBytes", offsetof(struct kafka_fetch_request, min_bytes), KAFKA_T_INT32, KAFKA_T_NONE,
	  0, 32767, 1, 0, -1, 0, NULL },
	{ "MaxBytes", offsetof(struct kafka_fetch_request, max_bytes), KAFKA_T_INT32, KAFKA_T_NONE,
	  3, 32767, 1, 0, -1, 2147483647, NULL },
	{ "IsolationLevel", offsetof(struct kafka_fetch_request, isolation_level), KAFKA_T_INT8,
	  KAFKA_T_NONE, 4, 32767, 1, 0, -1, 0, NULL },
	{ "SessionId", offsetof(struct kafka_fetch_request, session_id), KAFKA_T_INT32,
	  KAFKA_T_NONE, 7, 32767, 1, 0, -1, 0, NULL },
	{ "SessionEpoch", offsetof(struct kafka_fetch_request, session_epoch), KAFKA_T_INT32,
	  KAFKA_T_NONE, 7, 32767, 1, 0, -1, -1, NULL },
	{ "Topics", offsetof(struct kafka_fetch_request, topics), KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0,
	  32767, 1, 0, -1, 0, &kafka_fetch_request_fetch_topic_desc },
	{ "ForgottenTopicsData", offsetof(struct kafka_fetch_request, forgotten_topics_data),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 7, 32767, 1, 0, -1, 0,
	  &kafka_fetch_request_forgotten_topic_desc },
	{ "RackId", offsetof(struct kafka_fetch_request, rack_id), KAFKA_T_STRING, KAFKA_T_NONE, 11,
	  32767, 1, 0, -1, 0, NULL },
	{ "ClusterId", offsetof(struct kafka_fetch_request, cluster_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 12, 32767, 12, 32767, 0, 1, NULL },
	{ "ReplicaState", offsetof(struct kafka_fetch_request, replica_state), KAFKA_T_STRUCT,
	  KAFKA_T_NONE, 15, 32767, 1, 0, 1, 0, &kafka_fetch_request_replica_state_desc },
};
const struct kafka_struct_desc kafka_fetch_request_desc = { "kafka_fetch_request",
							    kafka_fetch_request_fields, 12,
							    sizeof(struct kafka_fetch_request) };

static const struct kafka_field kafka_fetch_response_epoch_end_offset_fields[] = {
	{ "Epoch", offsetof(struct kafka_fetch_response_epoch_end_offset, epoch), KAFKA_T_INT32,
	  KAFKA_T_NONE, 12, 32767, 1, 0, -1, -1, NULL },
	{ "EndOffset", offsetof(struct kafka_fetch_response_epoch_end_offset, end_offset),
	  KAFKA_T_INT64, KAFKA_T_NONE, 12, 32767, 1, 0, -1, -1, NULL },
};
const struct kafka_struct_desc kafka_fetch_response_epoch_end_offset_desc = {
	"kafka_fetch_response_epoch_end_offset", kafka_fetch_response_epoch_end_offset_fields, 2,
	sizeof(struct kafka_fetch_response_epoch_end_offset)
};

static const struct kafka_field kafka_fetch_response_leader_id_and_epoch_fields[] = {
	{ "LeaderId", offsetof(struct kafka_fetch_response_leader_id_and_epoch, leader_id),
	  KAFKA_T_INT32, KAFKA_T_NONE, 12, 32767, 1, 0, -1, -1, NULL },
	{ "LeaderEpoch", offsetof(struct kafka_fetch_response_leader_id_and_epoch, leader_epoch),
	  KAFKA_T_INT32, KAFKA_T_NONE, 12, 32767, 1, 0, -1, -1, NULL },
};
const struct kafka_struct_desc kafka_fetch_response_leader_id_and_epoch_desc = {
	"kafka_fetch_response_leader_id_and_epoch", kafka_fetch_response_leader_id_and_epoch_fields,
	2, sizeof(struct kafka_fetch_response_leader_id_and_epoch)
};

static const struct kafka_field kafka_fetch_response_snapshot_id_fields[] = {
	{ "EndOffset", offsetof(struct kafka_fetch_response_snapshot_id, end_offset), KAFKA_T_INT64,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, -1, NULL },
	{ "Epoch", offsetof(struct kafka_fetch_response_snapshot_id, epoch), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, -1, NULL },
};
const struct kafka_struct_desc kafka_fetch_response_snapshot_id_desc = {
	"kafka_fetch_response_snapshot_id", kafka_fetch_response_snapshot_id_fields, 2,
	sizeof(struct kafka_fetch_response_snapshot_id)
};

static const struct kafka_field kafka_fetch_response_aborted_transaction_fields[] = {
	{ "ProducerId", offsetof(struct kafka_fetch_response_aborted_transaction, producer_id),
	  KAFKA_T_INT64, KAFKA_T_NONE, 4, 32767, 1, 0, -1, 0, NULL },
	{ "FirstOffset", offsetof(struct kafka_fetch_response_aborted_transaction, first_offset),
	  KAFKA_T_INT64, KAFKA_T_NONE, 4, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_fetch_response_aborted_transaction_desc = {
	"kafka_fetch_response_aborted_transaction", kafka_fetch_response_aborted_transaction_fields,
	2, sizeof(struct kafka_fetch_response_aborted_transaction)
};

static const struct kafka_field kafka_fetch_response_partition_data_fields[] = {
	{ "PartitionIndex", offsetof(struct kafka_fetch_response_partition_data, partition_index),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_fetch_response_partition_data, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "HighWatermark", offsetof(struct kafka_fetch_response_partition_data, high_watermark),
	  KAFKA_T_INT64, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "LastStableOffset",
	  offsetof(struct kafka_fetch_response_partition_data, last_stable_offset), KAFKA_T_INT64,
	  KAFKA_T_NONE, 4, 32767, 1, 0, -1, -1, NULL },
	{ "LogStartOffset", offsetof(struct kafka_fetch_response_partition_data, log_start_offset),
	  KAFKA_T_INT64, KAFKA_T_NONE, 5, 32767, 1, 0, -1, -1, NULL },
	{ "AbortedTransactions",
	  offsetof(struct kafka_fetch_response_partition_data, aborted_transactions), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 4, 32767, 4, 32767, -1, 0,
	  &kafka_fetch_response_aborted_transaction_desc },
	{ "PreferredReadReplica",
	  offsetof(struct kafka_fetch_response_partition_data, preferred_read_replica),
	  KAFKA_T_INT32, KAFKA_T_NONE, 11, 32767, 1, 0, -1, -1, NULL },
	{ "Records", offsetof(struct kafka_fetch_response_partition_data, records), KAFKA_T_RECORDS,
	  KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 0, NULL },
	{ "DivergingEpoch", offsetof(struct kafka_fetch_response_partition_data, diverging_epoch),
	  KAFKA_T_STRUCT, KAFKA_T_NONE, 12, 32767, 1, 0, 0, 0,
	  &kafka_fetch_response_epoch_end_offset_desc },
	{ "CurrentLeader", offsetof(struct kafka_fetch_response_partition_data, current_leader),
	  KAFKA_T_STRUCT, KAFKA_T_NONE, 12, 32767, 1, 0, 1, 0,
	  &kafka_fetch_response_leader_id_and_epoch_desc },
	{ "SnapshotId", offsetof(struct kafka_fetch_response_partition_data, snapshot_id),
	  KAFKA_T_STRUCT, KAFKA_T_NONE, 12, 32767, 1, 0, 2, 0,
	  &kafka_fetch_response_snapshot_id_desc },
};
const struct kafka_struct_desc kafka_fetch_response_partition_data_desc = {
	"kafka_fetch_response_partition_data", kafka_fetch_response_partition_data_fields, 11,
	sizeof(struct kafka_fetch_response_partition_data)
};

static const struct kafka_field kafka_fetch_response_fetchable_topic_response_fields[] = {
	{ "Topic", offsetof(struct kafka_fetch_response_fetchable_topic_response, topic),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 12, 1, 0, -1, 0, NULL },
	{ "TopicId", offsetof(struct kafka_fetch_response_fetchable_topic_response, topic_id),
	  KAFKA_T_UUID, KAFKA_T_NONE, 13, 32767, 1, 0, -1, 0, NULL },
	{ "Partitions", offsetof(struct kafka_fetch_response_fetchable_topic_response, partitions),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_fetch_response_partition_data_desc },
};
const struct kafka_struct_desc kafka_fetch_response_fetchable_topic_response_desc = {
	"kafka_fetch_response_fetchable_topic_response",
	kafka_fetch_response_fetchable_topic_response_fields, 3,
	sizeof(struct kafka_fetch_response_fetchable_topic_response)
};

static const struct kafka_field kafka_fetch_response_node_endpoint_fields[] = {
	{ "NodeId", offsetof(struct kafka_fetch_response_node_endpoint, node_id), KAFKA_T_INT32,
	  KAFKA_T_NONE, 16, 32767, 1, 0, -1, 0, NULL },
	{ "Host", offsetof(struct kafka_fetch_response_node_endpoint, host), KAFKA_T_STRING,
	  KAFKA_T_NONE, 16, 32767, 1, 0, -1, 0, NULL },
	{ "Port", offsetof(struct kafka_fetch_response_node_endpoint, port), KAFKA_T_INT32,
	  KAFKA_T_NONE, 16, 32767, 1, 0, -1, 0, NULL },
	{ "Rack", offsetof(struct kafka_fetch_response_node_endpoint, rack), KAFKA_T_STRING,
	  KAFKA_T_NONE, 16, 32767, 16, 32767, -1, 1, NULL },
};
const struct kafka_struct_desc kafka_fetch_response_node_endpoint_desc = {
	"kafka_fetch_response_node_endpoint", kafka_fetch_response_node_endpoint_fields, 4,
	sizeof(struct kafka_fetch_response_node_endpoint)
};

static const struct kafka_field kafka_fetch_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_fetch_response, throttle_time_ms), KAFKA_T_INT32,
	  KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_fetch_response, error_code), KAFKA_T_INT16,
	  KAFKA_T_NONE, 7, 32767, 1, 0, -1, 0, NULL },
	{ "SessionId", offsetof(struct kafka_fetch_response, session_id), KAFKA_T_INT32,
	  KAFKA_T_NONE, 7, 32767, 1, 0, -1, 0, NULL },
	{ "Responses", offsetof(struct kafka_fetch_response, responses), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_fetch_response_fetchable_topic_response_desc },
	{ "NodeEndpoints", offsetof(struct kafka_fetch_response, node_endpoints), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 16, 32767, 1, 0, 0, 0, &kafka_fetch_response_node_endpoint_desc },
};
const struct kafka_struct_desc kafka_fetch_response_desc = { "kafka_fetch_response",
							     kafka_fetch_response_fields, 5,
							     sizeof(struct kafka_fetch_response) };

static const struct kafka_field kafka_list_offsets_request_list_offsets_partition_fields[] = {
	{ "PartitionIndex",
	  offsetof(struct kafka_list_offsets_request_list_offsets_partition, partition_index),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "CurrentLeaderEpoch",
	  offsetof(struct kafka_list_offsets_request_list_offsets_partition, current_leader_epoch),
	  KAFKA_T_INT32, KAFKA_T_NONE, 4, 32767, 1, 0, -1, -1, NULL },
	{ "Timestamp",
	  offsetof(struct kafka_list_offsets_request_list_offsets_partition, timestamp),
	  KAFKA_T_INT64, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "MaxNumOffsets",
	  offsetof(struct kafka_list_offsets_request_list_offsets_partition, max_num_offsets),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 0, 1, 0, -1, 1, NULL },
};
const struct kafka_struct_desc kafka_list_offsets_request_list_offsets_partition_desc = {
	"kafka_list_offsets_request_list_offsets_partition",
	kafka_list_offsets_request_list_offsets_partition_fields, 4,
	sizeof(struct kafka_list_offsets_request_list_offsets_partition)
};

static const struct kafka_field kafka_list_offsets_request_list_offsets_topic_fields[] = {
	{ "Name", offsetof(struct kafka_list_offsets_request_list_offsets_topic, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Partitions", offsetof(struct kafka_list_offsets_request_list_offsets_topic, partitions),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_list_offsets_request_list_offsets_partition_desc },
};
const struct kafka_struct_desc kafka_list_offsets_request_list_offsets_topic_desc = {
	"kafka_list_offsets_request_list_offsets_topic",
	kafka_list_offsets_request_list_offsets_topic_fields, 2,
	sizeof(struct kafka_list_offsets_request_list_offsets_topic)
};

static const struct kafka_field kafka_list_offsets_request_fields[] = {
	{ "ReplicaId", offsetof(struct kafka_list_offsets_request, replica_id), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "IsolationLevel", offsetof(struct kafka_list_offsets_request, isolation_level),
	  KAFKA_T_INT8, KAFKA_T_NONE, 2, 32767, 1, 0, -1, 0, NULL },
	{ "Topics", offsetof(struct kafka_list_offsets_request, topics), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_list_offsets_request_list_offsets_topic_desc },
	{ "TimeoutMs", offsetof(struct kafka_list_offsets_request, timeout_ms), KAFKA_T_INT32,
	  KAFKA_T_NONE, 10, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_list_offsets_request_desc = {
	"kafka_list_offsets_request", kafka_list_offsets_request_fields, 4,
	sizeof(struct kafka_list_offsets_request)
};

static const struct kafka_field
	kafka_list_offsets_response_list_offsets_partition_response_fields[] = {
		{ "PartitionIndex",
		  offsetof(struct kafka_list_offsets_response_list_offsets_partition_response,
			   partition_index),
		  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "ErrorCode",
		  offsetof(struct kafka_list_offsets_response_list_offsets_partition_response,
			   error_code),
		  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "OldStyleOffsets",
		  offsetof(struct kafka_list_offsets_response_list_offsets_partition_response,
			   old_style_offsets),
		  KAFKA_T_ARRAY, KAFKA_T_INT64, 0, 0, 1, 0, -1, 0, NULL },
		{ "Timestamp",
		  offsetof(struct kafka_list_offsets_response_list_offsets_partition_response,
			   timestamp),
		  KAFKA_T_INT64, KAFKA_T_NONE, 1, 32767, 1, 0, -1, -1, NULL },
		{ "Offset",
		  offsetof(struct kafka_list_offsets_response_list_offsets_partition_response,
			   offset),
		  KAFKA_T_INT64, KAFKA_T_NONE, 1, 32767, 1, 0, -1, -1, NULL },
		{ "LeaderEpoch",
		  offsetof(struct kafka_list_offsets_response_list_offsets_partition_response,
			   leader_epoch),
		  KAFKA_T_INT32, KAFKA_T_NONE, 4, 32767, 1, 0, -1, -1, NULL },
	};
const struct kafka_struct_desc kafka_list_offsets_response_list_offsets_partition_response_desc = {
	"kafka_list_offsets_response_list_offsets_partition_response",
	kafka_list_offsets_response_list_offsets_partition_response_fields, 6,
	sizeof(struct kafka_list_offsets_response_list_offsets_partition_response)
};

static const struct kafka_field kafka_list_offsets_response_list_offsets_topic_response_fields[] = {
	{ "Name", offsetof(struct kafka_list_offsets_response_list_offsets_topic_response, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Partitions",
	  offsetof(struct kafka_list_offsets_response_list_offsets_topic_response, partitions),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_list_offsets_response_list_offsets_partition_response_desc },
};
const struct kafka_struct_desc kafka_list_offsets_response_list_offsets_topic_response_desc = {
	"kafka_list_offsets_response_list_offsets_topic_response",
	kafka_list_offsets_response_list_offsets_topic_response_fields, 2,
	sizeof(struct kafka_list_offsets_response_list_offsets_topic_response)
};

static const struct kafka_field kafka_list_offsets_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_list_offsets_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 2, 32767, 1, 0, -1, 0, NULL },
	{ "Topics", offsetof(struct kafka_list_offsets_response, topics), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_list_offsets_response_list_offsets_topic_response_desc },
};
const struct kafka_struct_desc kafka_list_offsets_response_desc = {
	"kafka_list_offsets_response", kafka_list_offsets_response_fields, 2,
	sizeof(struct kafka_list_offsets_response)
};

static const struct kafka_field kafka_create_topics_request_creatable_replica_assignment_fields[] = {
	{ "PartitionIndex",
	  offsetof(struct kafka_create_topics_request_creatable_replica_assignment,
		   partition_index),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "BrokerIds",
	  offsetof(struct kafka_create_topics_request_creatable_replica_assignment, broker_ids),
	  KAFKA_T_ARRAY, KAFKA_T_INT32, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_create_topics_request_creatable_replica_assignment_desc = {
	"kafka_create_topics_request_creatable_replica_assignment",
	kafka_create_topics_request_creatable_replica_assignment_fields, 2,
	sizeof(struct kafka_create_topics_request_creatable_replica_assignment)
};

static const struct kafka_field kafka_create_topics_request_creatable_topic_config_fields[] = {
	{ "Name", offsetof(struct kafka_create_topics_request_creatable_topic_config, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Value", offsetof(struct kafka_create_topics_request_creatable_topic_config, value),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_create_topics_request_creatable_topic_config_desc = {
	"kafka_create_topics_request_creatable_topic_config",
	kafka_create_topics_request_creatable_topic_config_fields, 2,
	sizeof(struct kafka_create_topics_request_creatable_topic_config)
};

static const struct kafka_field kafka_create_topics_request_creatable_topic_fields[] = {
	{ "Name", offsetof(struct kafka_create_topics_request_creatable_topic, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "NumPartitions",
	  offsetof(struct kafka_create_topics_request_creatable_topic, num_partitions),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ReplicationFactor",
	  offsetof(struct kafka_create_topics_request_creatable_topic, replication_factor),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Assignments", offsetof(struct kafka_create_topics_request_creatable_topic, assignments),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_create_topics_request_creatable_replica_assignment_desc },
	{ "Configs", offsetof(struct kafka_create_topics_request_creatable_topic, configs),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_create_topics_request_creatable_topic_config_desc },
};
const struct kafka_struct_desc kafka_create_topics_request_creatable_topic_desc = {
	"kafka_create_topics_request_creatable_topic",
	kafka_create_topics_request_creatable_topic_fields, 5,
	sizeof(struct kafka_create_topics_request_creatable_topic)
};

static const struct kafka_field kafka_create_topics_request_fields[] = {
	{ "Topics", offsetof(struct kafka_create_topics_request, topics), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_create_topics_request_creatable_topic_desc },
	{ "timeoutMs", offsetof(struct kafka_create_topics_request, timeout_ms), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 60000, NULL },
	{ "validateOnly", offsetof(struct kafka_create_topics_request, validate_only), KAFKA_T_BOOL,
	  KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_create_topics_request_desc = {
	"kafka_create_topics_request", kafka_create_topics_request_fields, 3,
	sizeof(struct kafka_create_topics_request)
};

static const struct kafka_field kafka_create_topics_response_creatable_topic_configs_fields[] = {
	{ "Name", offsetof(struct kafka_create_topics_response_creatable_topic_configs, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 5, 32767, 1, 0, -1, 0, NULL },
	{ "Value", offsetof(struct kafka_create_topics_response_creatable_topic_configs, value),
	  KAFKA_T_STRING, KAFKA_T_NONE, 5, 32767, 5, 32767, -1, 0, NULL },
	{ "ReadOnly",
	  offsetof(struct kafka_create_topics_response_creatable_topic_configs, read_only),
	  KAFKA_T_BOOL, KAFKA_T_NONE, 5, 32767, 1, 0, -1, 0, NULL },
	{ "ConfigSource",
	  offsetof(struct kafka_create_topics_response_creatable_topic_configs, config_source),
	  KAFKA_T_INT8, KAFKA_T_NONE, 5, 32767, 1, 0, -1, -1, NULL },
	{ "IsSensitive",
	  offsetof(struct kafka_create_topics_response_creatable_topic_configs, is_sensitive),
	  KAFKA_T_BOOL, KAFKA_T_NONE, 5, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_create_topics_response_creatable_topic_configs_desc = {
	"kafka_create_topics_response_creatable_topic_configs",
	kafka_create_topics_response_creatable_topic_configs_fields, 5,
	sizeof(struct kafka_create_topics_response_creatable_topic_configs)
};

static const struct kafka_field kafka_create_topics_response_creatable_topic_result_fields[] = {
	{ "Name", offsetof(struct kafka_create_topics_response_creatable_topic_result, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "TopicId", offsetof(struct kafka_create_topics_response_creatable_topic_result, topic_id),
	  KAFKA_T_UUID, KAFKA_T_NONE, 7, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode",
	  offsetof(struct kafka_create_topics_response_creatable_topic_result, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorMessage",
	  offsetof(struct kafka_create_topics_response_creatable_topic_result, error_message),
	  KAFKA_T_STRING, KAFKA_T_NONE, 1, 32767, 0, 32767, -1, 0, NULL },
	{ "NumPartitions",
	  offsetof(struct kafka_create_topics_response_creatable_topic_result, num_partitions),
	  KAFKA_T_INT32, KAFKA_T_NONE, 5, 32767, 1, 0, -1, -1, NULL },
	{ "ReplicationFactor",
	  offsetof(struct kafka_create_topics_response_creatable_topic_result, replication_factor),
	  KAFKA_T_INT16, KAFKA_T_NONE, 5, 32767, 1, 0, -1, -1, NULL },
	{ "Configs", offsetof(struct kafka_create_topics_response_creatable_topic_result, configs),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 5, 32767, 5, 32767, -1, 0,
	  &kafka_create_topics_response_creatable_topic_configs_desc },
	{ "TopicConfigErrorCode",
	  offsetof(struct kafka_create_topics_response_creatable_topic_result,
		   topic_config_error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 5, 32767, 1, 0, 0, 0, NULL },
};
const struct kafka_struct_desc kafka_create_topics_response_creatable_topic_result_desc = {
	"kafka_create_topics_response_creatable_topic_result",
	kafka_create_topics_response_creatable_topic_result_fields, 8,
	sizeof(struct kafka_create_topics_response_creatable_topic_result)
};

static const struct kafka_field kafka_create_topics_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_create_topics_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 2, 32767, 1, 0, -1, 0, NULL },
	{ "Topics", offsetof(struct kafka_create_topics_response, topics), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_create_topics_response_creatable_topic_result_desc },
};
const struct kafka_struct_desc kafka_create_topics_response_desc = {
	"kafka_create_topics_response", kafka_create_topics_response_fields, 2,
	sizeof(struct kafka_create_topics_response)
};

static const struct kafka_field kafka_delete_topics_request_delete_topic_state_fields[] = {
	{ "Name", offsetof(struct kafka_delete_topics_request_delete_topic_state, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 6, 32767, 6, 32767, -1, 1, NULL },
	{ "TopicId", offsetof(struct kafka_delete_topics_request_delete_topic_state, topic_id),
	  KAFKA_T_UUID, KAFKA_T_NONE, 6, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_delete_topics_request_delete_topic_state_desc = {
	"kafka_delete_topics_request_delete_topic_state",
	kafka_delete_topics_request_delete_topic_state_fields, 2,
	sizeof(struct kafka_delete_topics_request_delete_topic_state)
};

static const struct kafka_field kafka_delete_topics_request_fields[] = {
	{ "Topics", offsetof(struct kafka_delete_topics_request, topics), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 6, 32767, 1, 0, -1, 0,
	  &kafka_delete_topics_request_delete_topic_state_desc },
	{ "TopicNames", offsetof(struct kafka_delete_topics_request, topic_names), KAFKA_T_ARRAY,
	  KAFKA_T_STRING, 0, 5, 1, 0, -1, 0, NULL },
	{ "TimeoutMs", offsetof(struct kafka_delete_topics_request, timeout_ms), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_delete_topics_request_desc = {
	"kafka_delete_topics_request", kafka_delete_topics_request_fields, 3,
	sizeof(struct kafka_delete_topics_request)
};

static const struct kafka_field kafka_delete_topics_response_deletable_topic_result_fields[] = {
	{ "Name", offsetof(struct kafka_delete_topics_response_deletable_topic_result, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 6, 32767, -1, 0, NULL },
	{ "TopicId", offsetof(struct kafka_delete_topics_response_deletable_topic_result, topic_id),
	  KAFKA_T_UUID, KAFKA_T_NONE, 6, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode",
	  offsetof(struct kafka_delete_topics_response_deletable_topic_result, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorMessage",
	  offsetof(struct kafka_delete_topics_response_deletable_topic_result, error_message),
	  KAFKA_T_STRING, KAFKA_T_NONE, 5, 32767, 5, 32767, -1, 1, NULL },
};
const struct kafka_struct_desc kafka_delete_topics_response_deletable_topic_result_desc = {
	"kafka_delete_topics_response_deletable_topic_result",
	kafka_delete_topics_response_deletable_topic_result_fields, 4,
	sizeof(struct kafka_delete_topics_response_deletable_topic_result)
};

static const struct kafka_field kafka_delete_topics_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_delete_topics_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "Responses", offsetof(struct kafka_delete_topics_response, responses), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_delete_topics_response_deletable_topic_result_desc },
};
const struct kafka_struct_desc kafka_delete_topics_response_desc = {
	"kafka_delete_topics_response", kafka_delete_topics_response_fields, 2,
	sizeof(struct kafka_delete_topics_response)
};

static const struct kafka_field kafka_describe_configs_request_describe_configs_resource_fields[] = {
	{ "ResourceType",
	  offsetof(struct kafka_describe_configs_request_describe_configs_resource, resource_type),
	  KAFKA_T_INT8, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ResourceName",
	  offsetof(struct kafka_describe_configs_request_describe_configs_resource, resource_name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ConfigurationKeys",
	  offsetof(struct kafka_describe_configs_request_describe_configs_resource,
		   configuration_keys),
	  KAFKA_T_ARRAY, KAFKA_T_STRING, 0, 32767, 0, 32767, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_describe_configs_request_describe_configs_resource_desc = {
	"kafka_describe_configs_request_describe_configs_resource",
	kafka_describe_configs_request_describe_configs_resource_fields, 3,
	sizeof(struct kafka_describe_configs_request_describe_configs_resource)
};

static const struct kafka_field kafka_describe_configs_request_fields[] = {
	{ "Resources", offsetof(struct kafka_describe_configs_request, resources), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_describe_configs_request_describe_configs_resource_desc },
	{ "IncludeSynonyms", offsetof(struct kafka_describe_configs_request, include_synonyms),
	  KAFKA_T_BOOL, KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "IncludeDocumentation",
	  offsetof(struct kafka_describe_configs_request, include_documentation), KAFKA_T_BOOL,
	  KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_describe_configs_request_desc = {
	"kafka_describe_configs_request", kafka_describe_configs_request_fields, 3,
	sizeof(struct kafka_describe_configs_request)
};

static const struct kafka_field kafka_describe_configs_response_describe_configs_synonym_fields[] = {
	{ "Name", offsetof(struct kafka_describe_configs_response_describe_configs_synonym, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "Value", offsetof(struct kafka_describe_configs_response_describe_configs_synonym, value),
	  KAFKA_T_STRING, KAFKA_T_NONE, 1, 32767, 0, 32767, -1, 0, NULL },
	{ "Source",
	  offsetof(struct kafka_describe_configs_response_describe_configs_synonym, source),
	  KAFKA_T_INT8, KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_describe_configs_response_describe_configs_synonym_desc = {
	"kafka_describe_configs_response_describe_configs_synonym",
	kafka_describe_configs_response_describe_configs_synonym_fields, 3,
	sizeof(struct kafka_describe_configs_response_describe_configs_synonym)
};

static const struct kafka_field
	kafka_describe_configs_response_describe_configs_resource_result_fields[] = {
		{ "Name",
		  offsetof(struct kafka_describe_configs_response_describe_configs_resource_result,
			   name),
		  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "Value",
		  offsetof(struct kafka_describe_configs_response_describe_configs_resource_result,
			   value),
		  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 0, NULL },
		{ "ReadOnly",
		  offsetof(struct kafka_describe_configs_response_describe_configs_resource_result,
			   read_only),
		  KAFKA_T_BOOL, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "IsDefault",
		  offsetof(struct kafka_describe_configs_response_describe_configs_resource_result,
			   is_default),
		  KAFKA_T_BOOL, KAFKA_T_NONE, 0, 0, 1, 0, -1, 0, NULL },
		{ "ConfigSource",
		  offsetof(struct kafka_describe_configs_response_describe_configs_resource_result,
			   config_source),
		  KAFKA_T_INT8, KAFKA_T_NONE, 1, 32767, 1, 0, -1, -1, NULL },
		{ "IsSensitive",
		  offsetof(struct kafka_describe_configs_response_describe_configs_resource_result,
			   is_sensitive),
		  KAFKA_T_BOOL, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "Synonyms",
		  offsetof(struct kafka_describe_configs_response_describe_configs_resource_result,
			   synonyms),
		  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 1, 32767, 1, 0, -1, 0,
		  &kafka_describe_configs_response_describe_configs_synonym_desc },
		{ "ConfigType",
		  offsetof(struct kafka_describe_configs_response_describe_configs_resource_result,
			   config_type),
		  KAFKA_T_INT8, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
		{ "Documentation",
		  offsetof(struct kafka_describe_configs_response_describe_configs_resource_result,
			   documentation),
		  KAFKA_T_STRING, KAFKA_T_NONE, 3, 32767, 0, 32767, -1, 0, NULL },
	};
const struct kafka_struct_desc
	kafka_describe_configs_response_describe_configs_resource_result_desc = {
		"kafka_describe_configs_response_describe_configs_resource_result",
		kafka_describe_configs_response_describe_configs_resource_result_fields, 9,
		sizeof(struct kafka_describe_configs_response_describe_configs_resource_result)
	};

static const struct kafka_field kafka_describe_configs_response_describe_configs_result_fields[] = {
	{ "ErrorCode",
	  offsetof(struct kafka_describe_configs_response_describe_configs_result, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorMessage",
	  offsetof(struct kafka_describe_configs_response_describe_configs_result, error_message),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 0, NULL },
	{ "ResourceType",
	  offsetof(struct kafka_describe_configs_response_describe_configs_result, resource_type),
	  KAFKA_T_INT8, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ResourceName",
	  offsetof(struct kafka_describe_configs_response_describe_configs_result, resource_name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Configs",
	  offsetof(struct kafka_describe_configs_response_describe_configs_result, configs),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_describe_configs_response_describe_configs_resource_result_desc },
};
const struct kafka_struct_desc kafka_describe_configs_response_describe_configs_result_desc = {
	"kafka_describe_configs_response_describe_configs_result",
	kafka_describe_configs_response_describe_configs_result_fields, 5,
	sizeof(struct kafka_describe_configs_response_describe_configs_result)
};

static const struct kafka_field kafka_describe_configs_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_describe_configs_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Results", offsetof(struct kafka_describe_configs_response, results), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_describe_configs_response_describe_configs_result_desc },
};
const struct kafka_struct_desc kafka_describe_configs_response_desc = {
	"kafka_describe_configs_response", kafka_describe_configs_response_fields, 2,
	sizeof(struct kafka_describe_configs_response)
};

static const struct kafka_field kafka_init_producer_id_request_fields[] = {
	{ "TransactionalId", offsetof(struct kafka_init_producer_id_request, transactional_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 0, NULL },
	{ "TransactionTimeoutMs",
	  offsetof(struct kafka_init_producer_id_request, transaction_timeout_ms), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ProducerId", offsetof(struct kafka_init_producer_id_request, producer_id), KAFKA_T_INT64,
	  KAFKA_T_NONE, 3, 32767, 1, 0, -1, -1, NULL },
	{ "ProducerEpoch", offsetof(struct kafka_init_producer_id_request, producer_epoch),
	  KAFKA_T_INT16, KAFKA_T_NONE, 3, 32767, 1, 0, -1, -1, NULL },
};
const struct kafka_struct_desc kafka_init_producer_id_request_desc = {
	"kafka_init_producer_id_request", kafka_init_producer_id_request_fields, 4,
	sizeof(struct kafka_init_producer_id_request)
};

static const struct kafka_field kafka_init_producer_id_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_init_producer_id_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_init_producer_id_response, error_code), KAFKA_T_INT16,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ProducerId", offsetof(struct kafka_init_producer_id_response, producer_id),
	  KAFKA_T_INT64, KAFKA_T_NONE, 0, 32767, 1, 0, -1, -1, NULL },
	{ "ProducerEpoch", offsetof(struct kafka_init_producer_id_response, producer_epoch),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_init_producer_id_response_desc = {
	"kafka_init_producer_id_response", kafka_init_producer_id_response_fields, 4,
	sizeof(struct kafka_init_producer_id_response)
};

static const struct kafka_field kafka_find_coordinator_request_fields[] = {
	{ "Key", offsetof(struct kafka_find_coordinator_request, key), KAFKA_T_STRING, KAFKA_T_NONE,
	  0, 3, 1, 0, -1, 0, NULL },
	{ "KeyType", offsetof(struct kafka_find_coordinator_request, key_type), KAFKA_T_INT8,
	  KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "CoordinatorKeys", offsetof(struct kafka_find_coordinator_request, coordinator_keys),
	  KAFKA_T_ARRAY, KAFKA_T_STRING, 4, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_find_coordinator_request_desc = {
	"kafka_find_coordinator_request", kafka_find_coordinator_request_fields, 3,
	sizeof(struct kafka_find_coordinator_request)
};

static const struct kafka_field kafka_find_coordinator_response_coordinator_fields[] = {
	{ "Key", offsetof(struct kafka_find_coordinator_response_coordinator, key), KAFKA_T_STRING,
	  KAFKA_T_NONE, 4, 32767, 1, 0, -1, 0, NULL },
	{ "NodeId", offsetof(struct kafka_find_coordinator_response_coordinator, node_id),
	  KAFKA_T_INT32, KAFKA_T_NONE, 4, 32767, 1, 0, -1, 0, NULL },
	{ "Host", offsetof(struct kafka_find_coordinator_response_coordinator, host),
	  KAFKA_T_STRING, KAFKA_T_NONE, 4, 32767, 1, 0, -1, 0, NULL },
	{ "Port", offsetof(struct kafka_find_coordinator_response_coordinator, port), KAFKA_T_INT32,
	  KAFKA_T_NONE, 4, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_find_coordinator_response_coordinator, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 4, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorMessage",
	  offsetof(struct kafka_find_coordinator_response_coordinator, error_message),
	  KAFKA_T_STRING, KAFKA_T_NONE, 4, 32767, 4, 32767, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_find_coordinator_response_coordinator_desc = {
	"kafka_find_coordinator_response_coordinator",
	kafka_find_coordinator_response_coordinator_fields, 6,
	sizeof(struct kafka_find_coordinator_response_coordinator)
};

static const struct kafka_field kafka_find_coordinator_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_find_coordinator_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_find_coordinator_response, error_code), KAFKA_T_INT16,
	  KAFKA_T_NONE, 0, 3, 1, 0, -1, 0, NULL },
	{ "ErrorMessage", offsetof(struct kafka_find_coordinator_response, error_message),
	  KAFKA_T_STRING, KAFKA_T_NONE, 1, 3, 1, 3, -1, 0, NULL },
	{ "NodeId", offsetof(struct kafka_find_coordinator_response, node_id), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 3, 1, 0, -1, 0, NULL },
	{ "Host", offsetof(struct kafka_find_coordinator_response, host), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 3, 1, 0, -1, 0, NULL },
	{ "Port", offsetof(struct kafka_find_coordinator_response, port), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 3, 1, 0, -1, 0, NULL },
	{ "Coordinators", offsetof(struct kafka_find_coordinator_response, coordinators),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 4, 32767, 1, 0, -1, 0,
	  &kafka_find_coordinator_response_coordinator_desc },
};
const struct kafka_struct_desc kafka_find_coordinator_response_desc = {
	"kafka_find_coordinator_response", kafka_find_coordinator_response_fields, 7,
	sizeof(struct kafka_find_coordinator_response)
};

static const struct kafka_field kafka_join_group_request_join_group_request_protocol_fields[] = {
	{ "Name", offsetof(struct kafka_join_group_request_join_group_request_protocol, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Metadata",
	  offsetof(struct kafka_join_group_request_join_group_request_protocol, metadata),
	  KAFKA_T_BYTES, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_join_group_request_join_group_request_protocol_desc = {
	"kafka_join_group_request_join_group_request_protocol",
	kafka_join_group_request_join_group_request_protocol_fields, 2,
	sizeof(struct kafka_join_group_request_join_group_request_protocol)
};

static const struct kafka_field kafka_join_group_request_fields[] = {
	{ "GroupId", offsetof(struct kafka_join_group_request, group_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "SessionTimeoutMs", offsetof(struct kafka_join_group_request, session_timeout_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "RebalanceTimeoutMs", offsetof(struct kafka_join_group_request, rebalance_timeout_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 1, 32767, 1, 0, -1, -1, NULL },
	{ "MemberId", offsetof(struct kafka_join_group_request, member_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "GroupInstanceId", offsetof(struct kafka_join_group_request, group_instance_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 5, 32767, 5, 32767, -1, 1, NULL },
	{ "ProtocolType", offsetof(struct kafka_join_group_request, protocol_type), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Protocols", offsetof(struct kafka_join_group_request, protocols), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_join_group_request_join_group_request_protocol_desc },
	{ "Reason", offsetof(struct kafka_join_group_request, reason), KAFKA_T_STRING, KAFKA_T_NONE,
	  8, 32767, 8, 32767, -1, 1, NULL },
};
const struct kafka_struct_desc kafka_join_group_request_desc = {
	"kafka_join_group_request", kafka_join_group_request_fields, 8,
	sizeof(struct kafka_join_group_request)
};

static const struct kafka_field kafka_join_group_response_join_group_response_member_fields[] = {
	{ "MemberId",
	  offsetof(struct kafka_join_group_response_join_group_response_member, member_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "GroupInstanceId",
	  offsetof(struct kafka_join_group_response_join_group_response_member, group_instance_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 5, 32767, 5, 32767, -1, 1, NULL },
	{ "Metadata",
	  offsetof(struct kafka_join_group_response_join_group_response_member, metadata),
	  KAFKA_T_BYTES, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_join_group_response_join_group_response_member_desc = {
	"kafka_join_group_response_join_group_response_member",
	kafka_join_group_response_join_group_response_member_fields, 3,
	sizeof(struct kafka_join_group_response_join_group_response_member)
};

static const struct kafka_field kafka_join_group_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_join_group_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 2, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_join_group_response, error_code), KAFKA_T_INT16,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "GenerationId", offsetof(struct kafka_join_group_response, generation_id), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, -1, NULL },
	{ "ProtocolType", offsetof(struct kafka_join_group_response, protocol_type), KAFKA_T_STRING,
	  KAFKA_T_NONE, 7, 32767, 7, 32767, -1, 1, NULL },
	{ "ProtocolName", offsetof(struct kafka_join_group_response, protocol_name), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 7, 32767, -1, 0, NULL },
	{ "Leader", offsetof(struct kafka_join_group_response, leader), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "SkipAssignment", offsetof(struct kafka_join_group_response, skip_assignment),
	  KAFKA_T_BOOL, KAFKA_T_NONE, 9, 32767, 1, 0, -1, 0, NULL },
	{ "MemberId", offsetof(struct kafka_join_group_response, member_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Members", offsetof(struct kafka_join_group_response, members), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_join_group_response_join_group_response_member_desc },
};
const struct kafka_struct_desc kafka_join_group_response_desc = {
	"kafka_join_group_response", kafka_join_group_response_fields, 9,
	sizeof(struct kafka_join_group_response)
};

static const struct kafka_field kafka_sync_group_request_sync_group_request_assignment_fields[] = {
	{ "MemberId",
	  offsetof(struct kafka_sync_group_request_sync_group_request_assignment, member_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Assignment",
	  offsetof(struct kafka_sync_group_request_sync_group_request_assignment, assignment),
	  KAFKA_T_BYTES, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_sync_group_request_sync_group_request_assignment_desc = {
	"kafka_sync_group_request_sync_group_request_assignment",
	kafka_sync_group_request_sync_group_request_assignment_fields, 2,
	sizeof(struct kafka_sync_group_request_sync_group_request_assignment)
};

static const struct kafka_field kafka_sync_group_request_fields[] = {
	{ "GroupId", offsetof(struct kafka_sync_group_request, group_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "GenerationId", offsetof(struct kafka_sync_group_request, generation_id), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "MemberId", offsetof(struct kafka_sync_group_request, member_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "GroupInstanceId", offsetof(struct kafka_sync_group_request, group_instance_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 3, 32767, 3, 32767, -1, 1, NULL },
	{ "ProtocolType", offsetof(struct kafka_sync_group_request, protocol_type), KAFKA_T_STRING,
	  KAFKA_T_NONE, 5, 32767, 5, 32767, -1, 1, NULL },
	{ "ProtocolName", offsetof(struct kafka_sync_group_request, protocol_name), KAFKA_T_STRING,
	  KAFKA_T_NONE, 5, 32767, 5, 32767, -1, 1, NULL },
	{ "Assignments", offsetof(struct kafka_sync_group_request, assignments), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_sync_group_request_sync_group_request_assignment_desc },
};
const struct kafka_struct_desc kafka_sync_group_request_desc = {
	"kafka_sync_group_request", kafka_sync_group_request_fields, 7,
	sizeof(struct kafka_sync_group_request)
};

static const struct kafka_field kafka_sync_group_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_sync_group_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_sync_group_response, error_code), KAFKA_T_INT16,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ProtocolType", offsetof(struct kafka_sync_group_response, protocol_type), KAFKA_T_STRING,
	  KAFKA_T_NONE, 5, 32767, 5, 32767, -1, 1, NULL },
	{ "ProtocolName", offsetof(struct kafka_sync_group_response, protocol_name), KAFKA_T_STRING,
	  KAFKA_T_NONE, 5, 32767, 5, 32767, -1, 1, NULL },
	{ "Assignment", offsetof(struct kafka_sync_group_response, assignment), KAFKA_T_BYTES,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_sync_group_response_desc = {
	"kafka_sync_group_response", kafka_sync_group_response_fields, 5,
	sizeof(struct kafka_sync_group_response)
};

static const struct kafka_field kafka_heartbeat_request_fields[] = {
	{ "GroupId", offsetof(struct kafka_heartbeat_request, group_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "GenerationId", offsetof(struct kafka_heartbeat_request, generation_id), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "MemberId", offsetof(struct kafka_heartbeat_request, member_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "GroupInstanceId", offsetof(struct kafka_heartbeat_request, group_instance_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 3, 32767, 3, 32767, -1, 1, NULL },
};
const struct kafka_struct_desc kafka_heartbeat_request_desc = {
	"kafka_heartbeat_request", kafka_heartbeat_request_fields, 4,
	sizeof(struct kafka_heartbeat_request)
};

static const struct kafka_field kafka_heartbeat_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_heartbeat_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_heartbeat_response, error_code), KAFKA_T_INT16,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_heartbeat_response_desc = {
	"kafka_heartbeat_response", kafka_heartbeat_response_fields, 2,
	sizeof(struct kafka_heartbeat_response)
};

static const struct kafka_field kafka_leave_group_request_member_identity_fields[] = {
	{ "MemberId", offsetof(struct kafka_leave_group_request_member_identity, member_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
	{ "GroupInstanceId",
	  offsetof(struct kafka_leave_group_request_member_identity, group_instance_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 3, 32767, 3, 32767, -1, 1, NULL },
	{ "Reason", offsetof(struct kafka_leave_group_request_member_identity, reason),
	  KAFKA_T_STRING, KAFKA_T_NONE, 5, 32767, 5, 32767, -1, 1, NULL },
};
const struct kafka_struct_desc kafka_leave_group_request_member_identity_desc = {
	"kafka_leave_group_request_member_identity",
	kafka_leave_group_request_member_identity_fields, 3,
	sizeof(struct kafka_leave_group_request_member_identity)
};

static const struct kafka_field kafka_leave_group_request_fields[] = {
	{ "GroupId", offsetof(struct kafka_leave_group_request, group_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "MemberId", offsetof(struct kafka_leave_group_request, member_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 2, 1, 0, -1, 0, NULL },
	{ "Members", offsetof(struct kafka_leave_group_request, members), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 3, 32767, 1, 0, -1, 0, &kafka_leave_group_request_member_identity_desc },
};
const struct kafka_struct_desc kafka_leave_group_request_desc = {
	"kafka_leave_group_request", kafka_leave_group_request_fields, 3,
	sizeof(struct kafka_leave_group_request)
};

static const struct kafka_field kafka_leave_group_response_member_response_fields[] = {
	{ "MemberId", offsetof(struct kafka_leave_group_response_member_response, member_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
	{ "GroupInstanceId",
	  offsetof(struct kafka_leave_group_response_member_response, group_instance_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 3, 32767, 3, 32767, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_leave_group_response_member_response, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_leave_group_response_member_response_desc = {
	"kafka_leave_group_response_member_response",
	kafka_leave_group_response_member_response_fields, 3,
	sizeof(struct kafka_leave_group_response_member_response)
};

static const struct kafka_field kafka_leave_group_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_leave_group_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_leave_group_response, error_code), KAFKA_T_INT16,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Members", offsetof(struct kafka_leave_group_response, members), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 3, 32767, 1, 0, -1, 0, &kafka_leave_group_response_member_response_desc },
};
const struct kafka_struct_desc kafka_leave_group_response_desc = {
	"kafka_leave_group_response", kafka_leave_group_response_fields, 3,
	sizeof(struct kafka_leave_group_response)
};

static const struct kafka_field
	kafka_offset_commit_request_offset_commit_request_partition_fields[] = {
		{ "PartitionIndex",
		  offsetof(struct kafka_offset_commit_request_offset_commit_request_partition,
			   partition_index),
		  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "CommittedOffset",
		  offsetof(struct kafka_offset_commit_request_offset_commit_request_partition,
			   committed_offset),
		  KAFKA_T_INT64, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "CommittedLeaderEpoch",
		  offsetof(struct kafka_offset_commit_request_offset_commit_request_partition,
			   committed_leader_epoch),
		  KAFKA_T_INT32, KAFKA_T_NONE, 6, 32767, 1, 0, -1, -1, NULL },
		{ "CommitTimestamp",
		  offsetof(struct kafka_offset_commit_request_offset_commit_request_partition,
			   commit_timestamp),
		  KAFKA_T_INT64, KAFKA_T_NONE, 1, 1, 1, 0, -1, -1, NULL },
		{ "CommittedMetadata",
		  offsetof(struct kafka_offset_commit_request_offset_commit_request_partition,
			   committed_metadata),
		  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 0, NULL },
	};
const struct kafka_struct_desc kafka_offset_commit_request_offset_commit_request_partition_desc = {
	"kafka_offset_commit_request_offset_commit_request_partition",
	kafka_offset_commit_request_offset_commit_request_partition_fields, 5,
	sizeof(struct kafka_offset_commit_request_offset_commit_request_partition)
};

static const struct kafka_field kafka_offset_commit_request_offset_commit_request_topic_fields[] = {
	{ "Name", offsetof(struct kafka_offset_commit_request_offset_commit_request_topic, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Partitions",
	  offsetof(struct kafka_offset_commit_request_offset_commit_request_topic, partitions),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_offset_commit_request_offset_commit_request_partition_desc },
};
const struct kafka_struct_desc kafka_offset_commit_request_offset_commit_request_topic_desc = {
	"kafka_offset_commit_request_offset_commit_request_topic",
	kafka_offset_commit_request_offset_commit_request_topic_fields, 2,
	sizeof(struct kafka_offset_commit_request_offset_commit_request_topic)
};

static const struct kafka_field kafka_offset_commit_request_fields[] = {
	{ "GroupId", offsetof(struct kafka_offset_commit_request, group_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "GenerationIdOrMemberEpoch",
	  offsetof(struct kafka_offset_commit_request, generation_id_or_member_epoch),
	  KAFKA_T_INT32, KAFKA_T_NONE, 1, 32767, 1, 0, -1, -1, NULL },
	{ "MemberId", offsetof(struct kafka_offset_commit_request, member_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "GroupInstanceId", offsetof(struct kafka_offset_commit_request, group_instance_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 7, 32767, 7, 32767, -1, 1, NULL },
	{ "RetentionTimeMs", offsetof(struct kafka_offset_commit_request, retention_time_ms),
	  KAFKA_T_INT64, KAFKA_T_NONE, 2, 4, 1, 0, -1, -1, NULL },
	{ "Topics", offsetof(struct kafka_offset_commit_request, topics), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_offset_commit_request_offset_commit_request_topic_desc },
};
const struct kafka_struct_desc kafka_offset_commit_request_desc = {
	"kafka_offset_commit_request", kafka_offset_commit_request_fields, 6,
	sizeof(struct kafka_offset_commit_request)
};

static const struct kafka_field
	kafka_offset_commit_response_offset_commit_response_partition_fields[] = {
		{ "PartitionIndex",
		  offsetof(struct kafka_offset_commit_response_offset_commit_response_partition,
			   partition_index),
		  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "ErrorCode",
		  offsetof(struct kafka_offset_commit_response_offset_commit_response_partition,
			   error_code),
		  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	};
const struct kafka_struct_desc kafka_offset_commit_response_offset_commit_response_partition_desc = {
	"kafka_offset_commit_response_offset_commit_response_partition",
	kafka_offset_commit_response_offset_commit_response_partition_fields, 2,
	sizeof(struct kafka_offset_commit_response_offset_commit_response_partition)
};

static const struct kafka_field kafka_offset_commit_response_offset_commit_response_topic_fields[] = {
	{ "Name", offsetof(struct kafka_offset_commit_response_offset_commit_response_topic, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Partitions",
	  offsetof(struct kafka_offset_commit_response_offset_commit_response_topic, partitions),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_offset_commit_response_offset_commit_response_partition_desc },
};
const struct kafka_struct_desc kafka_offset_commit_response_offset_commit_response_topic_desc = {
	"kafka_offset_commit_response_offset_commit_response_topic",
	kafka_offset_commit_response_offset_commit_response_topic_fields, 2,
	sizeof(struct kafka_offset_commit_response_offset_commit_response_topic)
};

static const struct kafka_field kafka_offset_commit_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_offset_commit_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
	{ "Topics", offsetof(struct kafka_offset_commit_response, topics), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_offset_commit_response_offset_commit_response_topic_desc },
};
const struct kafka_struct_desc kafka_offset_commit_response_desc = {
	"kafka_offset_commit_response", kafka_offset_commit_response_fields, 2,
	sizeof(struct kafka_offset_commit_response)
};

static const struct kafka_field kafka_offset_fetch_request_offset_fetch_request_topic_fields[] = {
	{ "Name", offsetof(struct kafka_offset_fetch_request_offset_fetch_request_topic, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 7, 1, 0, -1, 0, NULL },
	{ "PartitionIndexes",
	  offsetof(struct kafka_offset_fetch_request_offset_fetch_request_topic, partition_indexes),
	  KAFKA_T_ARRAY, KAFKA_T_INT32, 0, 7, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_offset_fetch_request_offset_fetch_request_topic_desc = {
	"kafka_offset_fetch_request_offset_fetch_request_topic",
	kafka_offset_fetch_request_offset_fetch_request_topic_fields, 2,
	sizeof(struct kafka_offset_fetch_request_offset_fetch_request_topic)
};

static const struct kafka_field kafka_offset_fetch_request_offset_fetch_request_topics_fields[] = {
	{ "Name", offsetof(struct kafka_offset_fetch_request_offset_fetch_request_topics, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 8, 32767, 1, 0, -1, 0, NULL },
	{ "PartitionIndexes",
	  offsetof(struct kafka_offset_fetch_request_offset_fetch_request_topics,
		   partition_indexes),
	  KAFKA_T_ARRAY, KAFKA_T_INT32, 8, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_offset_fetch_request_offset_fetch_request_topics_desc = {
	"kafka_offset_fetch_request_offset_fetch_request_topics",
	kafka_offset_fetch_request_offset_fetch_request_topics_fields, 2,
	sizeof(struct kafka_offset_fetch_request_offset_fetch_request_topics)
};

static const struct kafka_field kafka_offset_fetch_request_offset_fetch_request_group_fields[] = {
	{ "GroupId",
	  offsetof(struct kafka_offset_fetch_request_offset_fetch_request_group, group_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 8, 32767, 1, 0, -1, 0, NULL },
	{ "MemberId",
	  offsetof(struct kafka_offset_fetch_request_offset_fetch_request_group, member_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 9, 32767, 9, 32767, -1, 1, NULL },
	{ "MemberEpoch",
	  offsetof(struct kafka_offset_fetch_request_offset_fetch_request_group, member_epoch),
	  KAFKA_T_INT32, KAFKA_T_NONE, 9, 32767, 1, 0, -1, -1, NULL },
	{ "Topics", offsetof(struct kafka_offset_fetch_request_offset_fetch_request_group, topics),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 8, 32767, 8, 32767, -1, 0,
	  &kafka_offset_fetch_request_offset_fetch_request_topics_desc },
};
const struct kafka_struct_desc kafka_offset_fetch_request_offset_fetch_request_group_desc = {
	"kafka_offset_fetch_request_offset_fetch_request_group",
	kafka_offset_fetch_request_offset_fetch_request_group_fields, 4,
	sizeof(struct kafka_offset_fetch_request_offset_fetch_request_group)
};

static const struct kafka_field kafka_offset_fetch_request_fields[] = {
	{ "GroupId", offsetof(struct kafka_offset_fetch_request, group_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 7, 1, 0, -1, 0, NULL },
	{ "Topics", offsetof(struct kafka_offset_fetch_request, topics), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 7, 2, 7, -1, 0,
	  &kafka_offset_fetch_request_offset_fetch_request_topic_desc },
	{ "Groups", offsetof(struct kafka_offset_fetch_request, groups), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 8, 32767, 1, 0, -1, 0,
	  &kafka_offset_fetch_request_offset_fetch_request_group_desc },
	{ "RequireStable", offsetof(struct kafka_offset_fetch_request, require_stable),
	  KAFKA_T_BOOL, KAFKA_T_NONE, 7, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_offset_fetch_request_desc = {
	"kafka_offset_fetch_request", kafka_offset_fetch_request_fields, 4,
	sizeof(struct kafka_offset_fetch_request)
};

static const struct kafka_field
	kafka_offset_fetch_response_offset_fetch_response_partition_fields[] = {
		{ "PartitionIndex",
		  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_partition,
			   partition_index),
		  KAFKA_T_INT32, KAFKA_T_NONE, 0, 7, 1, 0, -1, 0, NULL },
		{ "CommittedOffset",
		  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_partition,
			   committed_offset),
		  KAFKA_T_INT64, KAFKA_T_NONE, 0, 7, 1, 0, -1, 0, NULL },
		{ "CommittedLeaderEpoch",
		  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_partition,
			   committed_leader_epoch),
		  KAFKA_T_INT32, KAFKA_T_NONE, 5, 7, 1, 0, -1, -1, NULL },
		{ "Metadata",
		  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_partition,
			   metadata),
		  KAFKA_T_STRING, KAFKA_T_NONE, 0, 7, 0, 7, -1, 0, NULL },
		{ "ErrorCode",
		  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_partition,
			   error_code),
		  KAFKA_T_INT16, KAFKA_T_NONE, 0, 7, 1, 0, -1, 0, NULL },
	};
const struct kafka_struct_desc kafka_offset_fetch_response_offset_fetch_response_partition_desc = {
	"kafka_offset_fetch_response_offset_fetch_response_partition",
	kafka_offset_fetch_response_offset_fetch_response_partition_fields, 5,
	sizeof(struct kafka_offset_fetch_response_offset_fetch_response_partition)
};

static const struct kafka_field kafka_offset_fetch_response_offset_fetch_response_topic_fields[] = {
	{ "Name", offsetof(struct kafka_offset_fetch_response_offset_fetch_response_topic, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 7, 1, 0, -1, 0, NULL },
	{ "Partitions",
	  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_topic, partitions),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 7, 1, 0, -1, 0,
	  &kafka_offset_fetch_response_offset_fetch_response_partition_desc },
};
const struct kafka_struct_desc kafka_offset_fetch_response_offset_fetch_response_topic_desc = {
	"kafka_offset_fetch_response_offset_fetch_response_topic",
	kafka_offset_fetch_response_offset_fetch_response_topic_fields, 2,
	sizeof(struct kafka_offset_fetch_response_offset_fetch_response_topic)
};

static const struct kafka_field
	kafka_offset_fetch_response_offset_fetch_response_partitions_fields[] = {
		{ "PartitionIndex",
		  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_partitions,
			   partition_index),
		  KAFKA_T_INT32, KAFKA_T_NONE, 8, 32767, 1, 0, -1, 0, NULL },
		{ "CommittedOffset",
		  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_partitions,
			   committed_offset),
		  KAFKA_T_INT64, KAFKA_T_NONE, 8, 32767, 1, 0, -1, 0, NULL },
		{ "CommittedLeaderEpoch",
		  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_partitions,
			   committed_leader_epoch),
		  KAFKA_T_INT32, KAFKA_T_NONE, 8, 32767, 1, 0, -1, -1, NULL },
		{ "Metadata",
		  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_partitions,
			   metadata),
		  KAFKA_T_STRING, KAFKA_T_NONE, 8, 32767, 8, 32767, -1, 0, NULL },
		{ "ErrorCode",
		  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_partitions,
			   error_code),
		  KAFKA_T_INT16, KAFKA_T_NONE, 8, 32767, 1, 0, -1, 0, NULL },
	};
const struct kafka_struct_desc kafka_offset_fetch_response_offset_fetch_response_partitions_desc = {
	"kafka_offset_fetch_response_offset_fetch_response_partitions",
	kafka_offset_fetch_response_offset_fetch_response_partitions_fields, 5,
	sizeof(struct kafka_offset_fetch_response_offset_fetch_response_partitions)
};

static const struct kafka_field kafka_offset_fetch_response_offset_fetch_response_topics_fields[] = {
	{ "Name", offsetof(struct kafka_offset_fetch_response_offset_fetch_response_topics, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 8, 32767, 1, 0, -1, 0, NULL },
	{ "Partitions",
	  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_topics, partitions),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 8, 32767, 1, 0, -1, 0,
	  &kafka_offset_fetch_response_offset_fetch_response_partitions_desc },
};
const struct kafka_struct_desc kafka_offset_fetch_response_offset_fetch_response_topics_desc = {
	"kafka_offset_fetch_response_offset_fetch_response_topics",
	kafka_offset_fetch_response_offset_fetch_response_topics_fields, 2,
	sizeof(struct kafka_offset_fetch_response_offset_fetch_response_topics)
};

static const struct kafka_field kafka_offset_fetch_response_offset_fetch_response_group_fields[] = {
	{ "GroupId",
	  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_group, group_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 8, 32767, 1, 0, -1, 0, NULL },
	{ "Topics",
	  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_group, topics),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 8, 32767, 1, 0, -1, 0,
	  &kafka_offset_fetch_response_offset_fetch_response_topics_desc },
	{ "ErrorCode",
	  offsetof(struct kafka_offset_fetch_response_offset_fetch_response_group, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 8, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_offset_fetch_response_offset_fetch_response_group_desc = {
	"kafka_offset_fetch_response_offset_fetch_response_group",
	kafka_offset_fetch_response_offset_fetch_response_group_fields, 3,
	sizeof(struct kafka_offset_fetch_response_offset_fetch_response_group)
};

static const struct kafka_field kafka_offset_fetch_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_offset_fetch_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
	{ "Topics", offsetof(struct kafka_offset_fetch_response, topics), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 7, 1, 0, -1, 0,
	  &kafka_offset_fetch_response_offset_fetch_response_topic_desc },
	{ "ErrorCode", offsetof(struct kafka_offset_fetch_response, error_code), KAFKA_T_INT16,
	  KAFKA_T_NONE, 2, 7, 1, 0, -1, 0, NULL },
	{ "Groups", offsetof(struct kafka_offset_fetch_response, groups), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 8, 32767, 1, 0, -1, 0,
	  &kafka_offset_fetch_response_offset_fetch_response_group_desc },
};
const struct kafka_struct_desc kafka_offset_fetch_response_desc = {
	"kafka_offset_fetch_response", kafka_offset_fetch_response_fields, 4,
	sizeof(struct kafka_offset_fetch_response)
};

static const struct kafka_field kafka_describe_groups_request_fields[] = {
	{ "Groups", offsetof(struct kafka_describe_groups_request, groups), KAFKA_T_ARRAY,
	  KAFKA_T_STRING, 0, 32767, 1, 0, -1, 0, NULL },
	{ "IncludeAuthorizedOperations",
	  offsetof(struct kafka_describe_groups_request, include_authorized_operations),
	  KAFKA_T_BOOL, KAFKA_T_NONE, 3, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_describe_groups_request_desc = {
	"kafka_describe_groups_request", kafka_describe_groups_request_fields, 2,
	sizeof(struct kafka_describe_groups_request)
};

static const struct kafka_field kafka_describe_groups_response_described_group_member_fields[] = {
	{ "MemberId",
	  offsetof(struct kafka_describe_groups_response_described_group_member, member_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "GroupInstanceId",
	  offsetof(struct kafka_describe_groups_response_described_group_member, group_instance_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 4, 32767, 4, 32767, -1, 1, NULL },
	{ "ClientId",
	  offsetof(struct kafka_describe_groups_response_described_group_member, client_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ClientHost",
	  offsetof(struct kafka_describe_groups_response_described_group_member, client_host),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "MemberMetadata",
	  offsetof(struct kafka_describe_groups_response_described_group_member, member_metadata),
	  KAFKA_T_BYTES, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "MemberAssignment",
	  offsetof(struct kafka_describe_groups_response_described_group_member, member_assignment),
	  KAFKA_T_BYTES, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_describe_groups_response_described_group_member_desc = {
	"kafka_describe_groups_response_described_group_member",
	kafka_describe_groups_response_described_group_member_fields, 6,
	sizeof(struct kafka_describe_groups_response_described_group_member)
};

static const struct kafka_field kafka_describe_groups_response_described_group_fields[] = {
	{ "ErrorCode", offsetof(struct kafka_describe_groups_response_described_group, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "GroupId", offsetof(struct kafka_describe_groups_response_described_group, group_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "GroupState",
	  offsetof(struct kafka_describe_groups_response_described_group, group_state),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ProtocolType",
	  offsetof(struct kafka_describe_groups_response_described_group, protocol_type),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ProtocolData",
	  offsetof(struct kafka_describe_groups_response_described_group, protocol_data),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Members", offsetof(struct kafka_describe_groups_response_described_group, members),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_describe_groups_response_described_group_member_desc },
	{ "AuthorizedOperations",
	  offsetof(struct kafka_describe_groups_response_described_group, authorized_operations),
	  KAFKA_T_INT32, KAFKA_T_NONE, 3, 32767, 1, 0, -1, INT32_MIN, NULL },
};
const struct kafka_struct_desc kafka_describe_groups_response_described_group_desc = {
	"kafka_describe_groups_response_described_group",
	kafka_describe_groups_response_described_group_fields, 7,
	sizeof(struct kafka_describe_groups_response_described_group)
};

static const struct kafka_field kafka_describe_groups_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_describe_groups_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "Groups", offsetof(struct kafka_describe_groups_response, groups), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_describe_groups_response_described_group_desc },
};
const struct kafka_struct_desc kafka_describe_groups_response_desc = {
	"kafka_describe_groups_response", kafka_describe_groups_response_fields, 2,
	sizeof(struct kafka_describe_groups_response)
};

static const struct kafka_field kafka_list_groups_request_fields[] = {
	{ "StatesFilter", offsetof(struct kafka_list_groups_request, states_filter), KAFKA_T_ARRAY,
	  KAFKA_T_STRING, 4, 32767, 1, 0, -1, 0, NULL },
	{ "TypesFilter", offsetof(struct kafka_list_groups_request, types_filter), KAFKA_T_ARRAY,
	  KAFKA_T_STRING, 5, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_list_groups_request_desc = {
	"kafka_list_groups_request", kafka_list_groups_request_fields, 2,
	sizeof(struct kafka_list_groups_request)
};

static const struct kafka_field kafka_list_groups_response_listed_group_fields[] = {
	{ "GroupId", offsetof(struct kafka_list_groups_response_listed_group, group_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ProtocolType", offsetof(struct kafka_list_groups_response_listed_group, protocol_type),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "GroupState", offsetof(struct kafka_list_groups_response_listed_group, group_state),
	  KAFKA_T_STRING, KAFKA_T_NONE, 4, 32767, 1, 0, -1, 0, NULL },
	{ "GroupType", offsetof(struct kafka_list_groups_response_listed_group, group_type),
	  KAFKA_T_STRING, KAFKA_T_NONE, 5, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_list_groups_response_listed_group_desc = {
	"kafka_list_groups_response_listed_group", kafka_list_groups_response_listed_group_fields,
	4, sizeof(struct kafka_list_groups_response_listed_group)
};

static const struct kafka_field kafka_list_groups_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_list_groups_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_list_groups_response, error_code), KAFKA_T_INT16,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Groups", offsetof(struct kafka_list_groups_response, groups), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0, &kafka_list_groups_response_listed_group_desc },
};
const struct kafka_struct_desc kafka_list_groups_response_desc = {
	"kafka_list_groups_response", kafka_list_groups_response_fields, 3,
	sizeof(struct kafka_list_groups_response)
};

static const struct kafka_field kafka_delete_groups_request_fields[] = {
	{ "GroupsNames", offsetof(struct kafka_delete_groups_request, groups_names), KAFKA_T_ARRAY,
	  KAFKA_T_STRING, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_delete_groups_request_desc = {
	"kafka_delete_groups_request", kafka_delete_groups_request_fields, 1,
	sizeof(struct kafka_delete_groups_request)
};

static const struct kafka_field kafka_delete_groups_response_deletable_group_result_fields[] = {
	{ "GroupId", offsetof(struct kafka_delete_groups_response_deletable_group_result, group_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode",
	  offsetof(struct kafka_delete_groups_response_deletable_group_result, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_delete_groups_response_deletable_group_result_desc = {
	"kafka_delete_groups_response_deletable_group_result",
	kafka_delete_groups_response_deletable_group_result_fields, 2,
	sizeof(struct kafka_delete_groups_response_deletable_group_result)
};

static const struct kafka_field kafka_delete_groups_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_delete_groups_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Results", offsetof(struct kafka_delete_groups_response, results), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_delete_groups_response_deletable_group_result_desc },
};
const struct kafka_struct_desc kafka_delete_groups_response_desc = {
	"kafka_delete_groups_response", kafka_delete_groups_response_fields, 2,
	sizeof(struct kafka_delete_groups_response)
};

static const struct kafka_field
	kafka_offset_delete_request_offset_delete_request_partition_fields[] = {
		{ "PartitionIndex",
		  offsetof(struct kafka_offset_delete_request_offset_delete_request_partition,
			   partition_index),
		  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	};
const struct kafka_struct_desc kafka_offset_delete_request_offset_delete_request_partition_desc = {
	"kafka_offset_delete_request_offset_delete_request_partition",
	kafka_offset_delete_request_offset_delete_request_partition_fields, 1,
	sizeof(struct kafka_offset_delete_request_offset_delete_request_partition)
};

static const struct kafka_field kafka_offset_delete_request_offset_delete_request_topic_fields[] = {
	{ "Name", offsetof(struct kafka_offset_delete_request_offset_delete_request_topic, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Partitions",
	  offsetof(struct kafka_offset_delete_request_offset_delete_request_topic, partitions),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_offset_delete_request_offset_delete_request_partition_desc },
};
const struct kafka_struct_desc kafka_offset_delete_request_offset_delete_request_topic_desc = {
	"kafka_offset_delete_request_offset_delete_request_topic",
	kafka_offset_delete_request_offset_delete_request_topic_fields, 2,
	sizeof(struct kafka_offset_delete_request_offset_delete_request_topic)
};

static const struct kafka_field kafka_offset_delete_request_fields[] = {
	{ "GroupId", offsetof(struct kafka_offset_delete_request, group_id), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Topics", offsetof(struct kafka_offset_delete_request, topics), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_offset_delete_request_offset_delete_request_topic_desc },
};
const struct kafka_struct_desc kafka_offset_delete_request_desc = {
	"kafka_offset_delete_request", kafka_offset_delete_request_fields, 2,
	sizeof(struct kafka_offset_delete_request)
};

static const struct kafka_field
	kafka_offset_delete_response_offset_delete_response_partition_fields[] = {
		{ "PartitionIndex",
		  offsetof(struct kafka_offset_delete_response_offset_delete_response_partition,
			   partition_index),
		  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "ErrorCode",
		  offsetof(struct kafka_offset_delete_response_offset_delete_response_partition,
			   error_code),
		  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	};
const struct kafka_struct_desc kafka_offset_delete_response_offset_delete_response_partition_desc = {
	"kafka_offset_delete_response_offset_delete_response_partition",
	kafka_offset_delete_response_offset_delete_response_partition_fields, 2,
	sizeof(struct kafka_offset_delete_response_offset_delete_response_partition)
};

static const struct kafka_field kafka_offset_delete_response_offset_delete_response_topic_fields[] = {
	{ "Name", offsetof(struct kafka_offset_delete_response_offset_delete_response_topic, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Partitions",
	  offsetof(struct kafka_offset_delete_response_offset_delete_response_topic, partitions),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_offset_delete_response_offset_delete_response_partition_desc },
};
const struct kafka_struct_desc kafka_offset_delete_response_offset_delete_response_topic_desc = {
	"kafka_offset_delete_response_offset_delete_response_topic",
	kafka_offset_delete_response_offset_delete_response_topic_fields, 2,
	sizeof(struct kafka_offset_delete_response_offset_delete_response_topic)
};

static const struct kafka_field kafka_offset_delete_response_fields[] = {
	{ "ErrorCode", offsetof(struct kafka_offset_delete_response, error_code), KAFKA_T_INT16,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ThrottleTimeMs", offsetof(struct kafka_offset_delete_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Topics", offsetof(struct kafka_offset_delete_response, topics), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_offset_delete_response_offset_delete_response_topic_desc },
};
const struct kafka_struct_desc kafka_offset_delete_response_desc = {
	"kafka_offset_delete_response", kafka_offset_delete_response_fields, 3,
	sizeof(struct kafka_offset_delete_response)
};

static const struct kafka_field
	kafka_create_partitions_request_create_partitions_assignment_fields[] = {
		{ "BrokerIds",
		  offsetof(struct kafka_create_partitions_request_create_partitions_assignment,
			   broker_ids),
		  KAFKA_T_ARRAY, KAFKA_T_INT32, 0, 32767, 1, 0, -1, 0, NULL },
	};
const struct kafka_struct_desc kafka_create_partitions_request_create_partitions_assignment_desc = {
	"kafka_create_partitions_request_create_partitions_assignment",
	kafka_create_partitions_request_create_partitions_assignment_fields, 1,
	sizeof(struct kafka_create_partitions_request_create_partitions_assignment)
};

static const struct kafka_field kafka_create_partitions_request_create_partitions_topic_fields[] = {
	{ "Name", offsetof(struct kafka_create_partitions_request_create_partitions_topic, name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Count", offsetof(struct kafka_create_partitions_request_create_partitions_topic, count),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Assignments",
	  offsetof(struct kafka_create_partitions_request_create_partitions_topic, assignments),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 0, 32767, -1, 0,
	  &kafka_create_partitions_request_create_partitions_assignment_desc },
};
const struct kafka_struct_desc kafka_create_partitions_request_create_partitions_topic_desc = {
	"kafka_create_partitions_request_create_partitions_topic",
	kafka_create_partitions_request_create_partitions_topic_fields, 3,
	sizeof(struct kafka_create_partitions_request_create_partitions_topic)
};

static const struct kafka_field kafka_create_partitions_request_fields[] = {
	{ "Topics", offsetof(struct kafka_create_partitions_request, topics), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_create_partitions_request_create_partitions_topic_desc },
	{ "TimeoutMs", offsetof(struct kafka_create_partitions_request, timeout_ms), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ValidateOnly", offsetof(struct kafka_create_partitions_request, validate_only),
	  KAFKA_T_BOOL, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_create_partitions_request_desc = {
	"kafka_create_partitions_request", kafka_create_partitions_request_fields, 3,
	sizeof(struct kafka_create_partitions_request)
};

static const struct kafka_field
	kafka_create_partitions_response_create_partitions_topic_result_fields[] = {
		{ "Name",
		  offsetof(struct kafka_create_partitions_response_create_partitions_topic_result,
			   name),
		  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "ErrorCode",
		  offsetof(struct kafka_create_partitions_response_create_partitions_topic_result,
			   error_code),
		  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "ErrorMessage",
		  offsetof(struct kafka_create_partitions_response_create_partitions_topic_result,
			   error_message),
		  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 1, NULL },
	};
const struct kafka_struct_desc
	kafka_create_partitions_response_create_partitions_topic_result_desc = {
		"kafka_create_partitions_response_create_partitions_topic_result",
		kafka_create_partitions_response_create_partitions_topic_result_fields, 3,
		sizeof(struct kafka_create_partitions_response_create_partitions_topic_result)
	};

static const struct kafka_field kafka_create_partitions_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_create_partitions_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Results", offsetof(struct kafka_create_partitions_response, results), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_create_partitions_response_create_partitions_topic_result_desc },
};
const struct kafka_struct_desc kafka_create_partitions_response_desc = {
	"kafka_create_partitions_response", kafka_create_partitions_response_fields, 2,
	sizeof(struct kafka_create_partitions_response)
};

static const struct kafka_field kafka_elect_leaders_request_topic_partitions_fields[] = {
	{ "Topic", offsetof(struct kafka_elect_leaders_request_topic_partitions, topic),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "PartitionId",
	  offsetof(struct kafka_elect_leaders_request_topic_partitions, partition_id),
	  KAFKA_T_ARRAY, KAFKA_T_INT32, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_elect_leaders_request_topic_partitions_desc = {
	"kafka_elect_leaders_request_topic_partitions",
	kafka_elect_leaders_request_topic_partitions_fields, 2,
	sizeof(struct kafka_elect_leaders_request_topic_partitions)
};

static const struct kafka_field kafka_elect_leaders_request_fields[] = {
	{ "ElectionType", offsetof(struct kafka_elect_leaders_request, election_type), KAFKA_T_INT8,
	  KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "TopicPartitions", offsetof(struct kafka_elect_leaders_request, topic_partitions),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 0, 32767, -1, 0,
	  &kafka_elect_leaders_request_topic_partitions_desc },
	{ "TimeoutMs", offsetof(struct kafka_elect_leaders_request, timeout_ms), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 60000, NULL },
};
const struct kafka_struct_desc kafka_elect_leaders_request_desc = {
	"kafka_elect_leaders_request", kafka_elect_leaders_request_fields, 3,
	sizeof(struct kafka_elect_leaders_request)
};

static const struct kafka_field kafka_elect_leaders_response_partition_result_fields[] = {
	{ "PartitionId",
	  offsetof(struct kafka_elect_leaders_response_partition_result, partition_id),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_elect_leaders_response_partition_result, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorMessage",
	  offsetof(struct kafka_elect_leaders_response_partition_result, error_message),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_elect_leaders_response_partition_result_desc = {
	"kafka_elect_leaders_response_partition_result",
	kafka_elect_leaders_response_partition_result_fields, 3,
	sizeof(struct kafka_elect_leaders_response_partition_result)
};

static const struct kafka_field kafka_elect_leaders_response_replica_election_result_fields[] = {
	{ "Topic", offsetof(struct kafka_elect_leaders_response_replica_election_result, topic),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "PartitionResult",
	  offsetof(struct kafka_elect_leaders_response_replica_election_result, partition_result),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_elect_leaders_response_partition_result_desc },
};
const struct kafka_struct_desc kafka_elect_leaders_response_replica_election_result_desc = {
	"kafka_elect_leaders_response_replica_election_result",
	kafka_elect_leaders_response_replica_election_result_fields, 2,
	sizeof(struct kafka_elect_leaders_response_replica_election_result)
};

static const struct kafka_field kafka_elect_leaders_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_elect_leaders_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_elect_leaders_response, error_code), KAFKA_T_INT16,
	  KAFKA_T_NONE, 1, 32767, 1, 0, -1, 0, NULL },
	{ "ReplicaElectionResults",
	  offsetof(struct kafka_elect_leaders_response, replica_election_results), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_elect_leaders_response_replica_election_result_desc },
};
const struct kafka_struct_desc kafka_elect_leaders_response_desc = {
	"kafka_elect_leaders_response", kafka_elect_leaders_response_fields, 3,
	sizeof(struct kafka_elect_leaders_response)
};

/* UnregisterBroker{Request,Response}.json, v0 (flexible). */
static const struct kafka_field kafka_unregister_broker_request_fields[] = {
	{ "BrokerId", offsetof(struct kafka_unregister_broker_request, broker_id), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_unregister_broker_request_desc = {
	"kafka_unregister_broker_request", kafka_unregister_broker_request_fields, 1,
	sizeof(struct kafka_unregister_broker_request)
};

static const struct kafka_field kafka_unregister_broker_response_fields[] = {
	{ "ThrottleTimeMs", offsetof(struct kafka_unregister_broker_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_unregister_broker_response, error_code), KAFKA_T_INT16,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorMessage", offsetof(struct kafka_unregister_broker_response, error_message),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_unregister_broker_response_desc = {
	"kafka_unregister_broker_response", kafka_unregister_broker_response_fields, 3,
	sizeof(struct kafka_unregister_broker_response)
};

/* AlterPartitionReassignments{Request,Response}.json, v0 (flexible). */
static const struct kafka_field
	kafka_alter_partition_reassignments_request_reassignable_partition_fields[] = {
		{ "PartitionIndex",
		  offsetof(struct kafka_alter_partition_reassignments_request_reassignable_partition,
			   partition_index),
		  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "Replicas",
		  offsetof(struct kafka_alter_partition_reassignments_request_reassignable_partition,
			   replicas),
		  KAFKA_T_ARRAY, KAFKA_T_INT32, 0, 32767, 0, 32767, -1, 1, NULL },
	};
const struct kafka_struct_desc
	kafka_alter_partition_reassignments_request_reassignable_partition_desc = {
		"kafka_alter_partition_reassignments_request_reassignable_partition",
		kafka_alter_partition_reassignments_request_reassignable_partition_fields, 2,
		sizeof(struct kafka_alter_partition_reassignments_request_reassignable_partition)
	};

static const struct kafka_field
	kafka_alter_partition_reassignments_request_reassignable_topic_fields[] = {
		{ "Name",
		  offsetof(struct kafka_alter_partition_reassignments_request_reassignable_topic,
			   name),
		  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "Partitions",
		  offsetof(struct kafka_alter_partition_reassignments_request_reassignable_topic,
			   partitions),
		  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
		  &kafka_alter_partition_reassignments_request_reassignable_partition_desc },
	};
const struct kafka_struct_desc kafka_alter_partition_reassignments_request_reassignable_topic_desc =
	{ "kafka_alter_partition_reassignments_request_reassignable_topic",
	  kafka_alter_partition_reassignments_request_reassignable_topic_fields, 2,
	  sizeof(struct kafka_alter_partition_reassignments_request_reassignable_topic) };

static const struct kafka_field kafka_alter_partition_reassignments_request_fields[] = {
	{ "TimeoutMs", offsetof(struct kafka_alter_partition_reassignments_request, timeout_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 60000, NULL },
	{ "Topics", offsetof(struct kafka_alter_partition_reassignments_request, topics),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_alter_partition_reassignments_request_reassignable_topic_desc },
};
const struct kafka_struct_desc kafka_alter_partition_reassignments_request_desc = {
	"kafka_alter_partition_reassignments_request",
	kafka_alter_partition_reassignments_request_fields, 2,
	sizeof(struct kafka_alter_partition_reassignments_request)
};

static const struct kafka_field
	kafka_alter_partition_reassignments_response_reassignable_partition_response_fields[] = {
		{ "PartitionIndex",
		  offsetof(struct
			   kafka_alter_partition_reassignments_response_reassignable_partition_response,
			   partition_index),
		  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "ErrorCode",
		  offsetof(struct
			   kafka_alter_partition_reassignments_response_reassignable_partition_response,
			   error_code),
		  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "ErrorMessage",
		  offsetof(struct
			   kafka_alter_partition_reassignments_response_reassignable_partition_response,
			   error_message),
		  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 0, NULL },
	};
const struct kafka_struct_desc
	kafka_alter_partition_reassignments_response_reassignable_partition_response_desc = {
		"kafka_alter_partition_reassignments_response_reassignable_partition_response",
		kafka_alter_partition_reassignments_response_reassignable_partition_response_fields,
		3,
		sizeof(struct
		       kafka_alter_partition_reassignments_response_reassignable_partition_response)
	};

static const struct kafka_field
	kafka_alter_partition_reassignments_response_reassignable_topic_response_fields[] = {
		{ "Name",
		  offsetof(struct
			   kafka_alter_partition_reassignments_response_reassignable_topic_response,
			   name),
		  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "Partitions",
		  offsetof(struct
			   kafka_alter_partition_reassignments_response_reassignable_topic_response,
			   partitions),
		  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
		  &kafka_alter_partition_reassignments_response_reassignable_partition_response_desc },
	};
const struct kafka_struct_desc
	kafka_alter_partition_reassignments_response_reassignable_topic_response_desc = {
		"kafka_alter_partition_reassignments_response_reassignable_topic_response",
		kafka_alter_partition_reassignments_response_reassignable_topic_response_fields, 2,
		sizeof(struct kafka_alter_partition_reassignments_response_reassignable_topic_response)
	};

static const struct kafka_field kafka_alter_partition_reassignments_response_fields[] = {
	{ "ThrottleTimeMs",
	  offsetof(struct kafka_alter_partition_reassignments_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_alter_partition_reassignments_response, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorMessage",
	  offsetof(struct kafka_alter_partition_reassignments_response, error_message),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 0, NULL },
	{ "Responses", offsetof(struct kafka_alter_partition_reassignments_response, responses),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_alter_partition_reassignments_response_reassignable_topic_response_desc },
};
const struct kafka_struct_desc kafka_alter_partition_reassignments_response_desc = {
	"kafka_alter_partition_reassignments_response",
	kafka_alter_partition_reassignments_response_fields, 4,
	sizeof(struct kafka_alter_partition_reassignments_response)
};

/* ListPartitionReassignments{Request,Response}.json, v0 (flexible). */
static const struct kafka_field
	kafka_list_partition_reassignments_request_list_partition_reassignments_topics_fields[] = {
		{ "Name",
		  offsetof(struct
			   kafka_list_partition_reassignments_request_list_partition_reassignments_topics,
			   name),
		  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "PartitionIndexes",
		  offsetof(struct
			   kafka_list_partition_reassignments_request_list_partition_reassignments_topics,
			   partition_indexes),
		  KAFKA_T_ARRAY, KAFKA_T_INT32, 0, 32767, 1, 0, -1, 0, NULL },
	};
const struct kafka_struct_desc
	kafka_list_partition_reassignments_request_list_partition_reassignments_topics_desc = {
		"kafka_list_partition_reassignments_request_list_partition_reassignments_topics",
		kafka_list_partition_reassignments_request_list_partition_reassignments_topics_fields,
		2,
		sizeof(struct
		       kafka_list_partition_reassignments_request_list_partition_reassignments_topics)
	};

static const struct kafka_field kafka_list_partition_reassignments_request_fields[] = {
	{ "TimeoutMs", offsetof(struct kafka_list_partition_reassignments_request, timeout_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 60000, NULL },
	{ "Topics", offsetof(struct kafka_list_partition_reassignments_request, topics),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 0, 32767, -1, 1,
	  &kafka_list_partition_reassignments_request_list_partition_reassignments_topics_desc },
};
const struct kafka_struct_desc kafka_list_partition_reassignments_request_desc = {
	"kafka_list_partition_reassignments_request",
	kafka_list_partition_reassignments_request_fields, 2,
	sizeof(struct kafka_list_partition_reassignments_request)
};

static const struct kafka_field
	kafka_list_partition_reassignments_response_ongoing_partition_reassignment_fields[] = {
		{ "PartitionIndex",
		  offsetof(struct
			   kafka_list_partition_reassignments_response_ongoing_partition_reassignment,
			   partition_index),
		  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "Replicas",
		  offsetof(struct
			   kafka_list_partition_reassignments_response_ongoing_partition_reassignment,
			   replicas),
		  KAFKA_T_ARRAY, KAFKA_T_INT32, 0, 32767, 1, 0, -1, 0, NULL },
		{ "AddingReplicas",
		  offsetof(struct
			   kafka_list_partition_reassignments_response_ongoing_partition_reassignment,
			   adding_replicas),
		  KAFKA_T_ARRAY, KAFKA_T_INT32, 0, 32767, 1, 0, -1, 0, NULL },
		{ "RemovingReplicas",
		  offsetof(struct
			   kafka_list_partition_reassignments_response_ongoing_partition_reassignment,
			   removing_replicas),
		  KAFKA_T_ARRAY, KAFKA_T_INT32, 0, 32767, 1, 0, -1, 0, NULL },
	};
const struct kafka_struct_desc
	kafka_list_partition_reassignments_response_ongoing_partition_reassignment_desc = {
		"kafka_list_partition_reassignments_response_ongoing_partition_reassignment",
		kafka_list_partition_reassignments_response_ongoing_partition_reassignment_fields, 4,
		sizeof(struct
		       kafka_list_partition_reassignments_response_ongoing_partition_reassignment)
	};

static const struct kafka_field
	kafka_list_partition_reassignments_response_ongoing_topic_reassignment_fields[] = {
		{ "Name",
		  offsetof(struct
			   kafka_list_partition_reassignments_response_ongoing_topic_reassignment,
			   name),
		  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
		{ "Partitions",
		  offsetof(struct
			   kafka_list_partition_reassignments_response_ongoing_topic_reassignment,
			   partitions),
		  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
		  &kafka_list_partition_reassignments_response_ongoing_partition_reassignment_desc },
	};
const struct kafka_struct_desc
	kafka_list_partition_reassignments_response_ongoing_topic_reassignment_desc = {
		"kafka_list_partition_reassignments_response_ongoing_topic_reassignment",
		kafka_list_partition_reassignments_response_ongoing_topic_reassignment_fields, 2,
		sizeof(struct kafka_list_partition_reassignments_response_ongoing_topic_reassignment)
	};

static const struct kafka_field kafka_list_partition_reassignments_response_fields[] = {
	{ "ThrottleTimeMs",
	  offsetof(struct kafka_list_partition_reassignments_response, throttle_time_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_list_partition_reassignments_response, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorMessage",
	  offsetof(struct kafka_list_partition_reassignments_response, error_message),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 0, NULL },
	{ "Topics", offsetof(struct kafka_list_partition_reassignments_response, topics),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_list_partition_reassignments_response_ongoing_topic_reassignment_desc },
};
const struct kafka_struct_desc kafka_list_partition_reassignments_response_desc = {
	"kafka_list_partition_reassignments_response",
	kafka_list_partition_reassignments_response_fields, 4,
	sizeof(struct kafka_list_partition_reassignments_response)
};

static const struct kafka_field kafka_sasl_handshake_request_fields[] = {
	{ "Mechanism", offsetof(struct kafka_sasl_handshake_request, mechanism), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_sasl_handshake_request_desc = {
	"kafka_sasl_handshake_request", kafka_sasl_handshake_request_fields, 1,
	sizeof(struct kafka_sasl_handshake_request)
};

static const struct kafka_field kafka_sasl_handshake_response_fields[] = {
	{ "ErrorCode", offsetof(struct kafka_sasl_handshake_response, error_code), KAFKA_T_INT16,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Mechanisms", offsetof(struct kafka_sasl_handshake_response, mechanisms), KAFKA_T_ARRAY,
	  KAFKA_T_STRING, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_sasl_handshake_response_desc = {
	"kafka_sasl_handshake_response", kafka_sasl_handshake_response_fields, 2,
	sizeof(struct kafka_sasl_handshake_response)
};

static const struct kafka_field kafka_consumer_group_heartbeat_request_topic_partitions_fields[] = {
	{ "TopicId",
	  offsetof(struct kafka_consumer_group_heartbeat_request_topic_partitions, topic_id),
	  KAFKA_T_UUID, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Partitions",
	  offsetof(struct kafka_consumer_group_heartbeat_request_topic_partitions, partitions),
	  KAFKA_T_ARRAY, KAFKA_T_INT32, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_consumer_group_heartbeat_request_topic_partitions_desc = {
	"kafka_consumer_group_heartbeat_request_topic_partitions",
	kafka_consumer_group_heartbeat_request_topic_partitions_fields, 2,
	sizeof(struct kafka_consumer_group_heartbeat_request_topic_partitions)
};

static const struct kafka_field kafka_consumer_group_heartbeat_request_fields[] = {
	{ "GroupId", offsetof(struct kafka_consumer_group_heartbeat_request, group_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "MemberId", offsetof(struct kafka_consumer_group_heartbeat_request, member_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "MemberEpoch", offsetof(struct kafka_consumer_group_heartbeat_request, member_epoch),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "InstanceId", offsetof(struct kafka_consumer_group_heartbeat_request, instance_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 1, NULL },
	{ "RackId", offsetof(struct kafka_consumer_group_heartbeat_request, rack_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 1, NULL },
	{ "RebalanceTimeoutMs",
	  offsetof(struct kafka_consumer_group_heartbeat_request, rebalance_timeout_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, -1, NULL },
	{ "SubscribedTopicNames",
	  offsetof(struct kafka_consumer_group_heartbeat_request, subscribed_topic_names),
	  KAFKA_T_ARRAY, KAFKA_T_STRING, 0, 32767, 0, 32767, -1, 1, NULL },
	{ "SubscribedTopicRegex",
	  offsetof(struct kafka_consumer_group_heartbeat_request, subscribed_topic_regex),
	  KAFKA_T_STRING, KAFKA_T_NONE, 1, 32767, 1, 32767, -1, 1, NULL },
	{ "ServerAssignor",
	  offsetof(struct kafka_consumer_group_heartbeat_request, server_assignor), KAFKA_T_STRING,
	  KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 1, NULL },
	{ "TopicPartitions",
	  offsetof(struct kafka_consumer_group_heartbeat_request, topic_partitions), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 0, 32767, -1, 1,
	  &kafka_consumer_group_heartbeat_request_topic_partitions_desc },
};
const struct kafka_struct_desc kafka_consumer_group_heartbeat_request_desc = {
	"kafka_consumer_group_heartbeat_request", kafka_consumer_group_heartbeat_request_fields, 10,
	sizeof(struct kafka_consumer_group_heartbeat_request)
};

static const struct kafka_field kafka_consumer_group_heartbeat_response_topic_partitions_fields[] = {
	{ "TopicId",
	  offsetof(struct kafka_consumer_group_heartbeat_response_topic_partitions, topic_id),
	  KAFKA_T_UUID, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Partitions",
	  offsetof(struct kafka_consumer_group_heartbeat_response_topic_partitions, partitions),
	  KAFKA_T_ARRAY, KAFKA_T_INT32, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_consumer_group_heartbeat_response_topic_partitions_desc = {
	"kafka_consumer_group_heartbeat_response_topic_partitions",
	kafka_consumer_group_heartbeat_response_topic_partitions_fields, 2,
	sizeof(struct kafka_consumer_group_heartbeat_response_topic_partitions)
};

static const struct kafka_field kafka_consumer_group_heartbeat_response_assignment_fields[] = {
	{ "TopicPartitions",
	  offsetof(struct kafka_consumer_group_heartbeat_response_assignment, topic_partitions),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_consumer_group_heartbeat_response_topic_partitions_desc },
};
const struct kafka_struct_desc kafka_consumer_group_heartbeat_response_assignment_desc = {
	"kafka_consumer_group_heartbeat_response_assignment",
	kafka_consumer_group_heartbeat_response_assignment_fields, 1,
	sizeof(struct kafka_consumer_group_heartbeat_response_assignment)
};

static const struct kafka_field kafka_consumer_group_heartbeat_response_fields[] = {
	{ "ThrottleTimeMs",
	  offsetof(struct kafka_consumer_group_heartbeat_response, throttle_time_ms), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorCode", offsetof(struct kafka_consumer_group_heartbeat_response, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorMessage", offsetof(struct kafka_consumer_group_heartbeat_response, error_message),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 1, NULL },
	{ "MemberId", offsetof(struct kafka_consumer_group_heartbeat_response, member_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 1, NULL },
	{ "MemberEpoch", offsetof(struct kafka_consumer_group_heartbeat_response, member_epoch),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "HeartbeatIntervalMs",
	  offsetof(struct kafka_consumer_group_heartbeat_response, heartbeat_interval_ms),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Assignment", offsetof(struct kafka_consumer_group_heartbeat_response, assignment),
	  KAFKA_T_STRUCT, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 1,
	  &kafka_consumer_group_heartbeat_response_assignment_desc },
};
const struct kafka_struct_desc kafka_consumer_group_heartbeat_response_desc = {
	"kafka_consumer_group_heartbeat_response", kafka_consumer_group_heartbeat_response_fields,
	7, sizeof(struct kafka_consumer_group_heartbeat_response)
};

static const struct kafka_field kafka_consumer_group_describe_request_fields[] = {
	{ "GroupIds", offsetof(struct kafka_consumer_group_describe_request, group_ids),
	  KAFKA_T_ARRAY, KAFKA_T_STRING, 0, 32767, 1, 0, -1, 0, NULL },
	{ "IncludeAuthorizedOperations",
	  offsetof(struct kafka_consumer_group_describe_request, include_authorized_operations),
	  KAFKA_T_BOOL, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_consumer_group_describe_request_desc = {
	"kafka_consumer_group_describe_request", kafka_consumer_group_describe_request_fields, 2,
	sizeof(struct kafka_consumer_group_describe_request)
};

static const struct kafka_field kafka_consumer_group_describe_response_topic_partitions_fields[] = {
	{ "TopicId",
	  offsetof(struct kafka_consumer_group_describe_response_topic_partitions, topic_id),
	  KAFKA_T_UUID, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "TopicName",
	  offsetof(struct kafka_consumer_group_describe_response_topic_partitions, topic_name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Partitions",
	  offsetof(struct kafka_consumer_group_describe_response_topic_partitions, partitions),
	  KAFKA_T_ARRAY, KAFKA_T_INT32, 0, 32767, 1, 0, -1, 0, NULL },
};
const struct kafka_struct_desc kafka_consumer_group_describe_response_topic_partitions_desc = {
	"kafka_consumer_group_describe_response_topic_partitions",
	kafka_consumer_group_describe_response_topic_partitions_fields, 3,
	sizeof(struct kafka_consumer_group_describe_response_topic_partitions)
};

static const struct kafka_field kafka_consumer_group_describe_response_assignment_fields[] = {
	{ "TopicPartitions",
	  offsetof(struct kafka_consumer_group_describe_response_assignment, topic_partitions),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_consumer_group_describe_response_topic_partitions_desc },
};
const struct kafka_struct_desc kafka_consumer_group_describe_response_assignment_desc = {
	"kafka_consumer_group_describe_response_assignment",
	kafka_consumer_group_describe_response_assignment_fields, 1,
	sizeof(struct kafka_consumer_group_describe_response_assignment)
};

static const struct kafka_field kafka_consumer_group_describe_response_member_fields[] = {
	{ "MemberId", offsetof(struct kafka_consumer_group_describe_response_member, member_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "InstanceId", offsetof(struct kafka_consumer_group_describe_response_member, instance_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 1, NULL },
	{ "RackId", offsetof(struct kafka_consumer_group_describe_response_member, rack_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 1, NULL },
	{ "MemberEpoch",
	  offsetof(struct kafka_consumer_group_describe_response_member, member_epoch),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ClientId", offsetof(struct kafka_consumer_group_describe_response_member, client_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ClientHost", offsetof(struct kafka_consumer_group_describe_response_member, client_host),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "SubscribedTopicNames",
	  offsetof(struct kafka_consumer_group_describe_response_member, subscribed_topic_names),
	  KAFKA_T_ARRAY, KAFKA_T_STRING, 0, 32767, 1, 0, -1, 0, NULL },
	{ "SubscribedTopicRegex",
	  offsetof(struct kafka_consumer_group_describe_response_member, subscribed_topic_regex),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 1, NULL },
	{ "Assignment", offsetof(struct kafka_consumer_group_describe_response_member, assignment),
	  KAFKA_T_STRUCT, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0,
	  &kafka_consumer_group_describe_response_assignment_desc },
	{ "TargetAssignment",
	  offsetof(struct kafka_consumer_group_describe_response_member, target_assignment),
	  KAFKA_T_STRUCT, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0,
	  &kafka_consumer_group_describe_response_assignment_desc },
};
const struct kafka_struct_desc kafka_consumer_group_describe_response_member_desc = {
	"kafka_consumer_group_describe_response_member",
	kafka_consumer_group_describe_response_member_fields, 10,
	sizeof(struct kafka_consumer_group_describe_response_member)
};

static const struct kafka_field kafka_consumer_group_describe_response_described_group_fields[] = {
	{ "ErrorCode",
	  offsetof(struct kafka_consumer_group_describe_response_described_group, error_code),
	  KAFKA_T_INT16, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "ErrorMessage",
	  offsetof(struct kafka_consumer_group_describe_response_described_group, error_message),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 0, 32767, -1, 1, NULL },
	{ "GroupId",
	  offsetof(struct kafka_consumer_group_describe_response_described_group, group_id),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "GroupState",
	  offsetof(struct kafka_consumer_group_describe_response_described_group, group_state),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "GroupEpoch",
	  offsetof(struct kafka_consumer_group_describe_response_described_group, group_epoch),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "AssignmentEpoch",
	  offsetof(struct kafka_consumer_group_describe_response_described_group, assignment_epoch),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "AssignorName",
	  offsetof(struct kafka_consumer_group_describe_response_described_group, assignor_name),
	  KAFKA_T_STRING, KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Members",
	  offsetof(struct kafka_consumer_group_describe_response_described_group, members),
	  KAFKA_T_ARRAY, KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_consumer_group_describe_response_member_desc },
	{ "AuthorizedOperations",
	  offsetof(struct kafka_consumer_group_describe_response_described_group,
		   authorized_operations),
	  KAFKA_T_INT32, KAFKA_T_NONE, 0, 32767, 1, 0, -1, INT32_MIN, NULL },
};
const struct kafka_struct_desc kafka_consumer_group_describe_response_described_group_desc = {
	"kafka_consumer_group_describe_response_described_group",
	kafka_consumer_group_describe_response_described_group_fields, 9,
	sizeof(struct kafka_consumer_group_describe_response_described_group)
};

static const struct kafka_field kafka_consumer_group_describe_response_fields[] = {
	{ "ThrottleTimeMs",
	  offsetof(struct kafka_consumer_group_describe_response, throttle_time_ms), KAFKA_T_INT32,
	  KAFKA_T_NONE, 0, 32767, 1, 0, -1, 0, NULL },
	{ "Groups", offsetof(struct kafka_consumer_group_describe_response, groups), KAFKA_T_ARRAY,
	  KAFKA_T_STRUCT, 0, 32767, 1, 0, -1, 0,
	  &kafka_consumer_group_describe_response_described_group_desc },
};
const struct kafka_struct_desc kafka_consumer_group_describe_response_desc = {
	"kafka_consumer_group_describe_response", kafka_consumer_group_describe_response_fields, 2,
	sizeof(struct kafka_consumer_group_describe_response)
};

/* Versions: the union of the schemas' validVersions; flexible_min -1 = never flexible. */
const struct kafka_api kafka_apis[] = {
	{ 18, "ApiVersions", 0, 4, 3, &kafka_api_versions_request_desc,
	  &kafka_api_versions_response_desc },
	{ 3, "Metadata", 0, 12, 9, &kafka_metadata_request_desc, &kafka_metadata_response_desc },
	{ 0, "Produce", 0, 11, 9, &kafka_produce_request_desc, &kafka_produce_response_desc },
	{ 1, "Fetch", 0, 17, 12, &kafka_fetch_request_desc, &kafka_fetch_response_desc },
	{ 2, "ListOffsets", 0, 10, 6, &kafka_list_offsets_request_desc,
	  &kafka_list_offsets_response_desc },
	{ 19, "CreateTopics", 0, 7, 5, &kafka_create_topics_request_desc,
	  &kafka_create_topics_response_desc },
	{ 20, "DeleteTopics", 0, 6, 4, &kafka_delete_topics_request_desc,
	  &kafka_delete_topics_response_desc },
	{ 32, "DescribeConfigs", 0, 4, 4, &kafka_describe_configs_request_desc,
	  &kafka_describe_configs_response_desc },
	{ 22, "InitProducerId", 0, 5, 2, &kafka_init_producer_id_request_desc,
	  &kafka_init_producer_id_response_desc },
	{ 10, "FindCoordinator", 0, 6, 3, &kafka_find_coordinator_request_desc,
	  &kafka_find_coordinator_response_desc },
	{ 11, "JoinGroup", 0, 9, 6, &kafka_join_group_request_desc,
	  &kafka_join_group_response_desc },
	{ 14, "SyncGroup", 0, 5, 4, &kafka_sync_group_request_desc,
	  &kafka_sync_group_response_desc },
	{ 12, "Heartbeat", 0, 4, 4, &kafka_heartbeat_request_desc, &kafka_heartbeat_response_desc },
	{ 13, "LeaveGroup", 0, 5, 4, &kafka_leave_group_request_desc,
	  &kafka_leave_group_response_desc },
	{ 8, "OffsetCommit", 0, 9, 8, &kafka_offset_commit_request_desc,
	  &kafka_offset_commit_response_desc },
	{ 9, "OffsetFetch", 0, 9, 6, &kafka_offset_fetch_request_desc,
	  &kafka_offset_fetch_response_desc },
	{ 15, "DescribeGroups", 0, 5, 5, &kafka_describe_groups_request_desc,
	  &kafka_describe_groups_response_desc },
	{ 16, "ListGroups", 0, 5, 3, &kafka_list_groups_request_desc,
	  &kafka_list_groups_response_desc },
	{ 42, "DeleteGroups", 0, 2, 2, &kafka_delete_groups_request_desc,
	  &kafka_delete_groups_response_desc },
	{ 47, "OffsetDelete", 0, 0, -1, &kafka_offset_delete_request_desc,
	  &kafka_offset_delete_response_desc },
	{ 37, "CreatePartitions", 0, 3, 2, &kafka_create_partitions_request_desc,
	  &kafka_create_partitions_response_desc },
	{ 43, "ElectLeaders", 0, 2, 2, &kafka_elect_leaders_request_desc,
	  &kafka_elect_leaders_response_desc },
	{ 45, "AlterPartitionReassignments", 0, 0, 0,
	  &kafka_alter_partition_reassignments_request_desc,
	  &kafka_alter_partition_reassignments_response_desc },
	{ 46, "ListPartitionReassignments", 0, 0, 0,
	  &kafka_list_partition_reassignments_request_desc,
	  &kafka_list_partition_reassignments_response_desc },
	{ 17, "SaslHandshake", 0, 1, -1, &kafka_sasl_handshake_request_desc,
	  &kafka_sasl_handshake_response_desc },
	{ 64, "UnregisterBroker", 0, 0, 0, &kafka_unregister_broker_request_desc,
	  &kafka_unregister_broker_response_desc },
	{ 68, "ConsumerGroupHeartbeat", 0, 1, 0, &kafka_consumer_group_heartbeat_request_desc,
	  &kafka_consumer_group_heartbeat_response_desc },
	{ 69, "ConsumerGroupDescribe", 0, 0, 0, &kafka_consumer_group_describe_request_desc,
	  &kafka_consumer_group_describe_response_desc },
};

const size_t kafka_apis_count = sizeof kafka_apis / sizeof kafka_apis[0];
