package sluice.compat;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sluice compatibility test with the reference Java client (kafka-clients 4.x).
 *
 * <pre>java -cp ... sluice.compat.SluiceCompat HOST:PORT</pre>
 *
 * AdminClient create/describe/delete topics and describeConfigs; an idempotent KafkaProducer
 * (acks=all) sending 2,000 records with lz4 and then 2,000 with zstd; a KafkaConsumer with
 * assign + seek + poll reading everything back in order; offsetsForTimes. Prints "ok - ..." or
 * "not ok - ..." per check and "N passed, N failed"; exits 1 if any check failed. Every network
 * wait is bounded (client timeouts, Future.get with a timeout, poll loops with a deadline), and a
 * watchdog thread ends the JVM if the whole run exceeds OVERALL_TIMEOUT.
 *
 * <p>Every partition is a Raft group (docs/replication.md): its log starts with control batches
 * (the configuration and the first leader's barrier) that the consumer skips, so the first record
 * is not at offset 0. Each run's expected offsets start at the log end ListOffsets gives before
 * it, and the segment files (under $SLUICE_LOG_DIRS, which run.py sets) show that every offset no
 * record took is a control batch.
 */
public final class SluiceCompat {
    static final int PARTITIONS = 3;
    static final int RECORDS = 2000; // per producer run
    static final long STEP_TIMEOUT_S = 30;
    static final Duration OVERALL_TIMEOUT = Duration.ofSeconds(150);
    static final int BIG_VALUE = 300 * 1024; // one record bigger than max.partition.fetch.bytes

    static int passed;
    static int failed;

    static synchronized boolean check(String name, boolean ok, String detail) {
        if (ok) {
            passed++;
            System.out.println("ok - " + name);
        } else {
            failed++;
            System.out.println("not ok - " + name + (detail.isEmpty() ? "" : " " + detail));
        }
        System.out.flush();
        return ok;
    }

    static boolean check(String name, boolean ok) {
        return check(name, ok, "");
    }

    interface Step<T> {
        T run() throws Exception;
    }

    /** Runs a step; an exception becomes a failed check and the result null. */
    static <T> T step(String name, Step<T> s) {
        try {
            return s.run();
        } catch (Exception e) {
            Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            check(name, false, "(" + c + ")");
            return null;
        }
    }

    /** Expects the future to fail with the given exception type. */
    static void expectFailure(String name, Future<?> f, Class<? extends Throwable> want) {
        try {
            f.get(STEP_TIMEOUT_S, TimeUnit.SECONDS);
            check(name, false, "(succeeded, expected " + want.getSimpleName() + ")");
        } catch (ExecutionException e) {
            check(name, want.isInstance(e.getCause()), "(got " + e.getCause() + ")");
        } catch (Exception e) {
            check(name, false, "(got " + e + ")");
        }
    }

    static <T> T get(Future<T> f) throws Exception {
        return f.get(STEP_TIMEOUT_S, TimeUnit.SECONDS);
    }

    // The records: run r ("lz4"/"zstd"), index i; record i goes to partition i % PARTITIONS, so
    // in partition p it sits at offset (the run's start in p) + i / PARTITIONS.
    static String key(String run, int i) {
        return run + "-key-" + i;
    }

    static byte[] value(String run, int i) {
        if (i % 500 == 7) return null; // a few null values
        if (i == RECORDS - 1) { // one big record at the end of each run
            byte[] big = new byte[BIG_VALUE];
            for (int j = 0; j < big.length; j++) big[j] = (byte) ('a' + (j * 7 + i) % 26);
            return big;
        }
        StringBuilder sb = new StringBuilder(run).append(" value ").append(i).append(' ');
        for (int j = 0; j < i % 97; j++) sb.append((char) ('a' + (i + j) % 26));
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Records of one run per partition (667, 667, 666). */
    static long[] perPartition() {
        long[] count = new long[PARTITIONS];
        for (int i = 0; i < RECORDS; i++) count[i % PARTITIONS]++;
        return count;
    }

    static Properties common(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
        p.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, "5000");
        return p;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: SluiceCompat HOST:PORT");
            System.exit(2);
        }
        String bootstrap = args[0];
        // slf4j-simple: warnings only, unless SLUICE_JAVA_DEBUG=1 (the clients' debug log, with
        // every request and its version); set before any logger exists.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
            "1".equals(System.getenv("SLUICE_JAVA_DEBUG")) ? "debug" : "warn");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(OVERALL_TIMEOUT.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            System.out.println("not ok - overall timeout: still running after " + OVERALL_TIMEOUT);
            System.out.println(passed + " passed, " + (failed + 1) + " failed");
            System.out.flush();
            Runtime.getRuntime().halt(1);
        });
        watchdog.setDaemon(true);
        watchdog.start();

        try {
            run(bootstrap);
        } catch (Throwable t) {
            check("unexpected error", false, "(" + t + ")");
            t.printStackTrace(System.out);
        }
        watchdog.interrupt();
        System.out.println(passed + " passed, " + failed + " failed");
        System.out.flush();
        // halt: do not wait for client threads that a failed close() may have left behind
        Runtime.getRuntime().halt(failed == 0 && passed > 0 ? 0 : 1);
    }

    static void run(String bootstrap) throws Exception {
        String topic = "java-compat-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis();
        String other = topic + "-other";
        try (Admin admin = Admin.create(common(bootstrap))) {
            adminChecks(admin, topic, other);
            long[][] starts = new long[2][];
            long[] bases = produceAndConsume(admin, bootstrap, topic, starts);
            if (bases != null) {
                storedLogChecks(topic, starts);
                consumeChecks(bootstrap, topic, bases, starts);
            }
            deleteChecks(admin, topic, other);
        }
    }

    // ---------------------------------------------------------------- admin
    static void adminChecks(Admin admin, String topic, String other) throws Exception {
        DescribeClusterResult cluster = admin.describeCluster();
        Collection<Node> nodes = step("describeCluster nodes", () -> get(cluster.nodes()));
        Node controller = step("describeCluster controller", () -> get(cluster.controller()));
        String clusterId = step("describeCluster clusterId", () -> get(cluster.clusterId()));
        if (nodes != null) {
            check("describeCluster: one node on 127.0.0.1", nodes.size() == 1
                && nodes.iterator().next().host().equals("127.0.0.1"), "(" + nodes + ")");
            check("describeCluster: controller is that node", controller != null
                && nodes.iterator().next().id() == controller.id(), "(" + controller + ")");
        }
        check("describeCluster: cluster id set", clusterId != null && !clusterId.isEmpty(), "(" + clusterId + ")");

        NewTopic nt = new NewTopic(topic, PARTITIONS, (short) 1)
            .configs(Map.of("retention.ms", "86400000", "cleanup.policy", "delete"));
        Object created = step("createTopics", () -> {
            get(admin.createTopics(List.of(nt, new NewTopic(other, 1, (short) 1))).all());
            return Boolean.TRUE;
        });
        check("createTopics: two topics created", created != null);
        expectFailure("createTopics again: TopicExistsException",
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all(), TopicExistsException.class);
        expectFailure("createTopics replication factor 3 on one node: InvalidReplicationFactorException",
            admin.createTopics(List.of(new NewTopic(topic + "-rf3", 1, (short) 3))).all(),
            InvalidReplicationFactorException.class);
        expectFailure("createTopics with an invalid name: InvalidTopicException",
            admin.createTopics(List.of(new NewTopic("bad/name", 1, (short) 1))).all(), InvalidTopicException.class);

        Set<String> names = step("listTopics", () -> get(admin.listTopics().names()));
        check("listTopics: both new topics listed", names != null && names.contains(topic) && names.contains(other),
            "(" + names + ")");

        Map<String, TopicDescription> desc = step("describeTopics",
            () -> get(admin.describeTopics(List.of(topic, other)).allTopicNames()));
        if (desc != null) {
            TopicDescription d = desc.get(topic);
            boolean ok = d != null && d.partitions().size() == PARTITIONS && !d.isInternal();
            if (ok) {
                for (int p = 0; p < PARTITIONS; p++) {
                    TopicPartitionInfo tp = d.partitions().get(p);
                    ok &= tp.partition() == p && tp.leader() != null && tp.replicas().size() == 1
                        && tp.isr().size() == 1 && (controller == null || tp.leader().id() == controller.id());
                }
            }
            check("describeTopics: " + PARTITIONS + " partitions led by the node, 1 replica, 1 in sync", ok,
                "(" + d + ")");
            check("describeTopics: second topic has 1 partition",
                desc.get(other) != null && desc.get(other).partitions().size() == 1);
        }
        expectFailure("describeTopics of a missing topic: UnknownTopicOrPartitionException",
            admin.describeTopics(List.of(topic + "-missing")).allTopicNames(),
            UnknownTopicOrPartitionException.class);

        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Map<ConfigResource, Config> cfgs = step("describeConfigs (topic)",
            () -> get(admin.describeConfigs(List.of(res)).all()));
        if (cfgs != null && cfgs.get(res) != null) {
            Config c = cfgs.get(res);
            ConfigEntry ret = c.get("retention.ms");
            check("describeConfigs: retention.ms = 86400000 as created",
                ret != null && "86400000".equals(ret.value()), "(" + ret + ")");
            ConfigEntry cp = c.get("cleanup.policy");
            check("describeConfigs: cleanup.policy = delete", cp != null && "delete".equals(cp.value()), "(" + cp + ")");
        } else if (cfgs != null) {
            check("describeConfigs: topic resource answered", false, "(" + cfgs + ")");
        }
        if (controller != null) {
            ConfigResource br = new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(controller.id()));
            Map<ConfigResource, Config> bc = step("describeConfigs (broker)",
                () -> get(admin.describeConfigs(List.of(br)).all()));
            if (bc != null) {
                Config c = bc.get(br);
                check("describeConfigs: broker has entries", c != null && !c.entries().isEmpty(), "(" + c + ")");
            }
        }
    }

    // ---------------------------------------------------------------- produce
    static Properties producerProps(String bootstrap, String compression) {
        Properties p = common(bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "16384");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "1048576");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "sluice-compat-" + compression);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    /** The log end (ListOffsets latest) of each partition. */
    static long[] logEnds(Admin admin, String topic) throws Exception {
        Map<TopicPartition, OffsetSpec> q = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) q.put(new TopicPartition(topic, p), OffsetSpec.latest());
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> r = get(admin.listOffsets(q).all());
        long[] out = new long[PARTITIONS];
        for (int p = 0; p < PARTITIONS; p++) out[p] = r.get(new TopicPartition(topic, p)).offset();
        return out;
    }

    /**
     * Produces both runs; returns each run's first timestamp, or null if producing failed.
     * starts[r] (an output) is the log end of each partition before run r, where it must start.
     */
    static long[] produceAndConsume(Admin admin, String bootstrap, String topic, long[][] starts) {
        String[] runs = {"lz4", "zstd"};
        long[] bases = new long[runs.length];
        boolean allOk = true;
        for (int r = 0; r < runs.length; r++) {
            final String run = runs[r];
            starts[r] = step("listOffsets (latest) before the " + run + " run", () -> logEnds(admin, topic));
            if (starts[r] == null) return null;
            final long[] start = starts[r];
            // Explicit CreateTime timestamps, 1 ms apart, runs 10 s apart, in the recent past.
            bases[r] = System.currentTimeMillis() - 60_000 + r * 10_000L;
            long base = bases[r];
            List<Future<RecordMetadata>> futures = new ArrayList<>();
            Boolean ok = step("producer " + run + ": send and flush " + RECORDS + " records", () -> {
                try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(bootstrap, run))) {
                    for (int i = 0; i < RECORDS; i++) {
                        ProducerRecord<byte[], byte[]> rec = new ProducerRecord<>(topic, i % PARTITIONS, base + i,
                            key(run, i).getBytes(StandardCharsets.UTF_8), value(run, i));
                        rec.headers().add("run", run.getBytes(StandardCharsets.UTF_8));
                        rec.headers().add("i", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                        futures.add(producer.send(rec));
                    }
                    producer.flush();
                    // every future is complete after flush(); get() reports its error, if any
                    for (int i = 0; i < RECORDS; i++) {
                        RecordMetadata md = get(futures.get(i));
                        int p = i % PARTITIONS;
                        long want = start[p] + i / PARTITIONS;
                        if (md.partition() != p || md.offset() != want || md.timestamp() != base + i) {
                            throw new IllegalStateException("record " + i + ": partition " + md.partition()
                                + " offset " + md.offset() + " timestamp " + md.timestamp() + ", expected "
                                + p + "/" + want + "/" + (base + i));
                        }
                    }
                    producer.close(Duration.ofSeconds(STEP_TIMEOUT_S));
                    return Boolean.TRUE;
                }
            });
            check("producer " + run + " (idempotent, acks=all): " + RECORDS
                + " records acknowledged at the expected partitions and offsets (from the log end "
                + Arrays.toString(start) + ")", ok != null);
            allOk &= ok != null;
        }
        if (allOk) {
            long[] count = perPartition();
            boolean next = true;
            for (int p = 0; p < PARTITIONS; p++) next &= starts[1][p] == starts[0][p] + count[p];
            check("the zstd run starts right after the lz4 run's last record in each partition", next,
                "(" + Arrays.toString(starts[0]) + " + " + Arrays.toString(count) + " vs "
                    + Arrays.toString(starts[1]) + ")");
        }
        return allOk ? bases : null;
    }

    // ---------------------------------------------------------------- the stored log
    /** One RecordBatch header from a segment file: BaseOffset, LastOffsetDelta, Attributes,
     *  RecordsCount, and the control type (first record's key) of an uncompressed control batch. */
    record Batch(long base, long last, int attributes, int records, int controlType) {
        boolean control() {
            return (attributes & 0x20) != 0;
        }
    }

    /** Every batch in the partition's segment files ($SLUICE_LOG_DIRS/topic-p/*.log), in order. */
    static List<Batch> storedBatches(String logDirs, String topic, int p) throws IOException {
        File[] files = new File(logDirs, topic + "-" + p).listFiles((d, n) -> n.endsWith(".log"));
        if (files == null) throw new IOException("no partition directory for " + topic + "-" + p);
        Arrays.sort(files);
        List<Batch> out = new ArrayList<>();
        for (File f : files) {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f.toPath()));
            while (b.remaining() >= 61) {
                int at = b.position();
                long base = b.getLong(at);
                int length = b.getInt(at + 8);
                if (b.get(at + 16) != 2 || length < 49) throw new IOException(f + ": no batch v2 at " + at);
                if (at + 12 + length > b.limit()) break; // a batch being written
                int attrs = b.getShort(at + 21);
                int lastDelta = b.getInt(at + 23);
                int count = b.getInt(at + 57);
                int type = -1;
                if ((attrs & 0x20) != 0 && (attrs & 7) == 0 && count > 0) {
                    ByteBuffer r = b.duplicate();
                    r.position(at + 61);
                    varint(r); // length
                    r.get(); // attributes
                    varint(r); // timestamp delta
                    varint(r); // offset delta
                    if (varint(r) >= 4) type = r.getShort(r.position() + 2); // key: version, type
                }
                out.add(new Batch(base, base + lastDelta, attrs, count, type));
                b.position(at + 12 + length);
            }
        }
        return out;
    }

    static long varint(ByteBuffer b) {
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            byte x = b.get();
            v |= (long) (x & 0x7f) << shift;
            if ((x & 0x80) == 0) return (v >>> 1) ^ -(v & 1);
        }
    }

    /**
     * The offsets no record took are control batches: before the lz4 run's start exactly the
     * Raft configuration entry and the first leader's barrier; the runs' records fill the rest
     * (read with the segment files, since the consumer never shows control batches).
     */
    static void storedLogChecks(String topic, long[][] starts) {
        String logDirs = System.getenv("SLUICE_LOG_DIRS");
        if (logDirs == null) {
            check("the stored log: $SLUICE_LOG_DIRS names the server's log.dirs", false);
            return;
        }
        long[] count = perPartition();
        String bad = null;
        for (int p = 0; p < PARTITIONS && bad == null; p++) {
            final int part = p;
            List<Batch> batches = step("read the segment files of partition " + p,
                () -> storedBatches(logDirs, topic, part));
            if (batches == null) return;
            long next = 0, records = 0;
            List<String> control = new ArrayList<>();
            for (Batch b : batches) {
                if (b.base() != next) bad = "partition " + p + ": batch at " + b.base() + ", expected " + next;
                next = b.last() + 1;
                if (b.control()) {
                    control.add(b.base() + ":" + Integer.toHexString(b.controlType()));
                    if (b.base() >= starts[0][p]) bad = "partition " + p + ": control batch at " + b.base();
                } else {
                    records += b.records();
                    if (b.base() < starts[0][p]) bad = "partition " + p + ": records at " + b.base();
                }
            }
            if (bad == null && !control.equals(List.of("0:5302", "1:5301")))
                bad = "partition " + p + ": control batches " + control + ", run start " + starts[0][p];
            if (bad == null && (records != 2 * count[p] || next != starts[1][p] + count[p]))
                bad = "partition " + p + ": " + records + " records up to " + next;
        }
        check("the stored log: contiguous batches; the offsets before the first record are the Raft "
            + "configuration and leader barrier control batches, and records fill the rest", bad == null,
            bad == null ? "" : "(" + bad + ")");
    }

    // ---------------------------------------------------------------- consume
    static Properties consumerProps(String bootstrap) {
        Properties p = common(bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "65536"); // smaller than the big record
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, "131072");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "200");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "sluice-compat-consumer");
        return p;
    }

    static void consumeChecks(String bootstrap, String topic, long[] bases, long[][] starts) throws Exception {
        String[] runs = {"lz4", "zstd"};
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps(bootstrap))) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) tps.add(new TopicPartition(topic, p));
            consumer.assign(tps);
            Duration t = Duration.ofSeconds(STEP_TIMEOUT_S);

            Map<TopicPartition, Long> begin = step("beginningOffsets", () -> consumer.beginningOffsets(tps, t));
            Map<TopicPartition, Long> end = step("endOffsets", () -> consumer.endOffsets(tps, t));
            long[] count = perPartition();
            if (begin != null && end != null) {
                boolean ok = true;
                for (int p = 0; p < PARTITIONS; p++) {
                    ok &= begin.get(tps.get(p)) == 0L && end.get(tps.get(p)) == starts[1][p] + count[p];
                }
                check("beginningOffsets 0 and endOffsets right after the last record", ok,
                    "(" + begin + " " + end + ")");
            }

            // seek to the beginning and poll to the end
            consumer.seekToBeginning(tps);
            Map<Integer, List<ConsumerRecord<byte[], byte[]>>> got = new HashMap<>();
            for (int p = 0; p < PARTITIONS; p++) got.put(p, new ArrayList<>());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            int total = 0;
            while (total < 2 * RECORDS && System.nanoTime() < deadline) {
                ConsumerRecords<byte[], byte[]> recs = consumer.poll(Duration.ofMillis(500));
                for (ConsumerRecord<byte[], byte[]> rec : recs) {
                    got.get(rec.partition()).add(rec);
                    total++;
                }
            }
            check("consumer assign + seekToBeginning + poll: " + (2 * RECORDS) + " records before the deadline",
                total == 2 * RECORDS, "(got " + total + ")");
            String bad = null;
            for (int p = 0; p < PARTITIONS && bad == null; p++) {
                List<ConsumerRecord<byte[], byte[]>> list = got.get(p);
                int n = 0; // records of the partition seen so far
                for (int r = 0; r < runs.length && bad == null; r++) {
                    long offset = starts[r][p];
                    for (int i = p; i < RECORDS && bad == null; i += PARTITIONS, offset++, n++) {
                        if (n >= list.size()) {
                            bad = "partition " + p + " ends at " + list.size();
                            break;
                        }
                        ConsumerRecord<byte[], byte[]> rec = list.get(n);
                        String k = rec.key() == null ? null : new String(rec.key(), StandardCharsets.UTF_8);
                        Header hr = rec.headers().lastHeader("run");
                        Header hi = rec.headers().lastHeader("i");
                        if (rec.offset() != offset || !key(runs[r], i).equals(k)
                            || !Arrays.equals(value(runs[r], i), rec.value())
                            || rec.timestamp() != bases[r] + i
                            || hr == null || !runs[r].equals(new String(hr.value(), StandardCharsets.UTF_8))
                            || hi == null || !Integer.toString(i).equals(new String(hi.value(), StandardCharsets.UTF_8))) {
                            bad = "partition " + p + " offset " + rec.offset() + " (expected " + offset + "): key "
                                + k + " timestamp " + rec.timestamp() + " expected record " + runs[r] + "/" + i;
                        }
                    }
                }
                if (bad == null && list.size() != n) bad = "partition " + p + " has " + list.size() + " records";
            }
            check("consumer: every record in order at its acknowledged offset with the same key, value "
                + "(incl. null and 300 KiB), timestamp and headers", bad == null, bad == null ? "" : "(" + bad + ")");

            boolean posOk = true;
            StringBuilder positions = new StringBuilder();
            for (int p = 0; p < PARTITIONS; p++) {
                final TopicPartition tp = tps.get(p);
                Long pos = step("position", () -> consumer.position(tp, t));
                positions.append(' ').append(pos);
                posOk &= pos != null && pos == starts[1][p] + count[p];
            }
            check("consumer position after reading everything is the end offset", posOk, "(" + positions + ")");

            // seek to a given offset and read one record
            TopicPartition tp1 = tps.get(1);
            long seekTo = starts[1][1] + 100;
            consumer.seek(tp1, seekTo);
            ConsumerRecord<byte[], byte[]> first = null;
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (first == null && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(500))) {
                    if (rec.partition() == 1 && first == null) first = rec;
                }
            }
            int wantI = 1 + 100 * PARTITIONS; // the 101st record of run 2 in partition 1
            check("consumer seek(partition 1, " + seekTo + "): first record is zstd/" + wantI,
                first != null && first.offset() == seekTo
                    && key("zstd", wantI).equals(new String(first.key(), StandardCharsets.UTF_8)),
                "(" + first + ")");

            // offsetsForTimes
            Map<TopicPartition, Long> query = new HashMap<>();
            long ts = bases[0] + 1000; // record lz4/1000 and later
            for (TopicPartition tp : tps) query.put(tp, ts);
            Map<TopicPartition, OffsetAndTimestamp> ft = step("offsetsForTimes", () -> consumer.offsetsForTimes(query, t));
            if (ft != null) {
                boolean exact = true, safe = true;
                StringBuilder why = new StringBuilder();
                for (int p = 0; p < PARTITIONS; p++) {
                    int i = 1000;
                    while (i % PARTITIONS != p) i++;
                    OffsetAndTimestamp oat = ft.get(tps.get(p));
                    long want = starts[0][p] + i / PARTITIONS;
                    boolean one = oat != null && oat.offset() == want && oat.timestamp() == bases[0] + i;
                    if (!one) why.append(" p").append(p).append("=").append(oat).append(" want offset ")
                        .append(want).append(" timestamp ").append(bases[0] + i);
                    exact &= one;
                    safe &= oat != null && oat.offset() <= want;
                }
                check("offsetsForTimes(inside the lz4 run): no record at or after the time is skipped", safe,
                    why.toString());
                check("offsetsForTimes(inside the lz4 run): the first record at or after the time, with its timestamp",
                    exact, why.toString());
            }
            Map<TopicPartition, Long> q2 = new HashMap<>();
            for (TopicPartition tp : tps) q2.put(tp, bases[1]); // the first zstd record
            Map<TopicPartition, OffsetAndTimestamp> ft2 = step("offsetsForTimes (second run)",
                () -> consumer.offsetsForTimes(q2, t));
            if (ft2 != null) {
                boolean offsets = true, stamps = true;
                for (int p = 0; p < PARTITIONS; p++) {
                    OffsetAndTimestamp oat = ft2.get(tps.get(p));
                    offsets &= oat != null && oat.offset() == starts[1][p];
                    stamps &= oat != null && oat.timestamp() == bases[1] + p;
                }
                check("offsetsForTimes(start of the zstd run): the run's first offsets", offsets, "(" + ft2 + ")");
                check("offsetsForTimes(start of the zstd run): the first records' timestamps", stamps,
                    "(" + ft2 + ")");
            }
            Map<TopicPartition, Long> q3 = new HashMap<>();
            for (TopicPartition tp : tps) q3.put(tp, System.currentTimeMillis() + 3_600_000L);
            Map<TopicPartition, OffsetAndTimestamp> ft3 = step("offsetsForTimes (future)",
                () -> consumer.offsetsForTimes(q3, t));
            if (ft3 != null) {
                check("offsetsForTimes(in the future): null for every partition",
                    ft3.size() == PARTITIONS && ft3.values().stream().allMatch(v -> v == null), "(" + ft3 + ")");
            }
        }
    }

    // ---------------------------------------------------------------- delete
    static void deleteChecks(Admin admin, String topic, String other) throws Exception {
        Object del = step("deleteTopics", () -> {
            get(admin.deleteTopics(List.of(topic, other)).all());
            return Boolean.TRUE;
        });
        check("deleteTopics: both topics deleted", del != null);
        Set<String> names = step("listTopics after delete", () -> get(admin.listTopics().names()));
        check("listTopics after delete: topics gone",
            names != null && !names.contains(topic) && !names.contains(other), "(" + names + ")");
        expectFailure("deleteTopics of a missing topic: UnknownTopicOrPartitionException",
            admin.deleteTopics(List.of(topic)).all(), UnknownTopicOrPartitionException.class);
    }
}
