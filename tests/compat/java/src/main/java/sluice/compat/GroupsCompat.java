package sluice.compat;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * One consumer-group member (KafkaConsumer, group.protocol=classic) for the groups_* tests; the
 * event protocol is described in tests/compat/groups_common.py, and
 * tests/compat/groups_members_test.py --client=java drives it.
 *
 * <pre>java -cp ... sluice.compat.GroupsCompat BOOTSTRAP GROUP TOPIC NAME EVENTS SESSION_MS RATE INSTANCE_ID</pre>
 *
 * Processes each polled batch in chunks of 10 records, then commitSync of what it processed; the
 * rebalance listener reports assignments and revocations. SIGTERM: the loop ends after its current
 * batch and close() sends LeaveGroup; the exit status is then 0. A watchdog ends the JVM after WORKER_MAX in any case.
 */
public final class GroupsCompat {
    static final Duration WORKER_MAX = Duration.ofSeconds(220);
    static final Duration STEP = Duration.ofSeconds(20);
    static final int CHUNK = 10;

    static FileOutputStream events;

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    /** One JSON line, one write(2): a SIGKILL loses nothing already reported. */
    static synchronized void emit(String ev, String fields) {
        double t = System.currentTimeMillis() / 1000.0;
        String line = "{\"ev\":" + quote(ev) + ",\"t\":" + t
                + (fields.isEmpty() ? "" : "," + fields) + "}\n";
        try {
            events.write(line.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    static String parts(Collection<TopicPartition> tps) {
        List<Integer> ps = new ArrayList<>();
        for (TopicPartition tp : tps) {
            ps.add(tp.partition());
        }
        ps.sort(null);
        return "\"parts\":" + ps.toString().replace(" ", "");
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 8) {
            System.err.println("usage: GroupsCompat BOOTSTRAP GROUP TOPIC NAME EVENTS SESSION_MS RATE INSTANCE_ID");
            System.exit(2);
        }
        String bootstrap = args[0], group = args[1], topic = args[2], name = args[3];
        int sessionMs = Integer.parseInt(args[5]);
        int rate = Integer.parseInt(args[6]);
        String instanceId = args[7];
        events = new FileOutputStream(args[4], true);
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
                "1".equals(System.getenv("SLUICE_JAVA_DEBUG")) ? "debug" : "warn");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");

        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(WORKER_MAX.toMillis());
                Runtime.getRuntime().halt(3);
            } catch (InterruptedException e) {
                // the run finished
            }
        });
        watchdog.setDaemon(true);
        watchdog.start();

        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, name);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, String.valueOf(sessionMs));
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "50");
        p.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
        if (!"-".equals(instanceId)) {
            p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        }
        KafkaConsumer<String, String> c =
                new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());

        final int[] exitStatus = {1};
        final CountDownLatch finished = new CountDownLatch(1);
        final boolean[] stopping = {false};
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // no wakeup(): the loop notices the flag within one poll and commits what it
            // processed before closing
            synchronized (stopping) {
                stopping[0] = true;
            }
            try {
                finished.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                // exiting anyway
            }
            Runtime.getRuntime().halt(exitStatus[0]); // 0 after a clean close, not 143
        }));

        int status = 0;
        try {
            c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> tps) {
                    emit("revoke", parts(tps));
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> tps) {
                    emit("assign", parts(tps));
                }
            });
            emit("start", "");
            while (true) {
                synchronized (stopping) {
                    if (stopping[0]) {
                        break;
                    }
                }
                ConsumerRecords<String, String> recs = c.poll(Duration.ofMillis(500));
                if (recs.isEmpty()) {
                    continue;
                }
                Map<Integer, List<ConsumerRecord<String, String>>> byPart = new TreeMap<>();
                for (ConsumerRecord<String, String> r : recs) {
                    byPart.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r);
                }
                Map<TopicPartition, OffsetAndMetadata> offs = new HashMap<>();
                StringBuilder offsJson = new StringBuilder();
                for (Map.Entry<Integer, List<ConsumerRecord<String, String>>> e : byPart.entrySet()) {
                    List<ConsumerRecord<String, String>> l = e.getValue();
                    for (int i = 0; i < l.size(); i += CHUNK) {
                        List<ConsumerRecord<String, String>> chunk = l.subList(i, Math.min(l.size(), i + CHUNK));
                        StringBuilder b = new StringBuilder("\"p\":" + e.getKey() + ",\"recs\":[");
                        for (int k = 0; k < chunk.size(); k++) {
                            b.append(k == 0 ? "" : ",").append('[').append(chunk.get(k).offset())
                                    .append(',').append(Long.parseLong(chunk.get(k).value())).append(']');
                        }
                        emit("proc", b.append(']').toString());
                        if (rate > 0) {
                            Thread.sleep(chunk.size() * 1000L / rate);
                        }
                    }
                    long next = l.get(l.size() - 1).offset() + 1;
                    offs.put(new TopicPartition(topic, e.getKey()), new OffsetAndMetadata(next));
                    offsJson.append(offsJson.length() == 0 ? "" : ",")
                            .append('"').append(e.getKey()).append("\":").append(next);
                }
                try {
                    c.commitSync(offs, STEP);
                    emit("commit", "\"offs\":{" + offsJson + "}");
                } catch (RuntimeException e) {
                    emit("commit_error", "\"err\":" + quote(e.toString()));
                }
            }
        } catch (Exception e) {
            emit("error", "\"err\":" + quote(e.toString()));
            status = 1;
        }
        try {
            c.close(Duration.ofSeconds(20));
            if (status == 0) {
                emit("closed", "");
            }
        } catch (Exception e) {
            emit("error", "\"err\":" + quote("close: " + e));
            status = 1;
        }
        exitStatus[0] = status;
        finished.countDown();
        watchdog.interrupt();
        if (status != 0) {
            Runtime.getRuntime().halt(status);
        }
    }
}
