package sluice.compat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The KIP-848 consumer group protocol (group.protocol=consumer) with the Java client 4.x against
 * sluice: two consumers share a 6-partition topic (3 + 3 once settled), consume 1,000 records
 * with commitSync after each batch, AdminClient.describeConsumerGroups shows a CONSUMER group
 * with both members and their assignments; one consumer closes, 1,000 more records are
 * produced and the other takes over all 6 partitions; all 2,000 records are consumed exactly
 * once. Prints "ok - ..." / "not ok - ..." and "N passed, N failed"; exits 1 on any failure.
 * Usage: Groups848Compat BOOTSTRAP (run.py BUILD/sluice-server sluice.compat.Groups848Compat).
 */
public final class Groups848Compat {
    static final String TOPIC = "j848";
    static final String GROUP = "jg848";
    static final int PARTITIONS = 6;
    static final int PHASE = 1000;
    static final long STEP_TIMEOUT_MS = 60_000;

    static int passed, failed;

    static void check(boolean ok, String what) {
        if (ok) passed++; else failed++;
        System.out.println((ok ? "ok - " : "not ok - ") + what);
        System.out.flush();
    }

    static boolean waitUntil(BooleanSupplier pred, long timeoutMs) throws InterruptedException {
        long end = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < end) {
            if (pred.getAsBoolean()) return true;
            Thread.sleep(100);
        }
        return pred.getAsBoolean();
    }

    /** One consumer on its own thread; records what it consumed and what it owns. */
    static final class Member implements Runnable {
        final String name;
        final Properties props;
        final Set<Integer> owned = ConcurrentHashMap.newKeySet();
        final List<Integer> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        final List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        final AtomicBoolean stop = new AtomicBoolean();
        volatile boolean closed;
        final Thread thread;

        Member(String bootstrap, String name) {
            this.name = name;
            props = new Properties();
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            props.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
            props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
            props.put(ConsumerConfig.CLIENT_ID_CONFIG, name);
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            thread = new Thread(this, name);
            thread.setDaemon(true);
            thread.start();
        }

        public void run() {
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(props)) {
                c.subscribe(List.of(TOPIC), new ConsumerRebalanceListener() {
                    public void onPartitionsRevoked(Collection<TopicPartition> parts) {
                        parts.forEach(p -> owned.remove(p.partition()));
                    }
                    public void onPartitionsAssigned(Collection<TopicPartition> parts) {
                        parts.forEach(p -> owned.add(p.partition()));
                    }
                    public void onPartitionsLost(Collection<TopicPartition> parts) {
                        errors.add("lost " + parts);
                        parts.forEach(p -> owned.remove(p.partition()));
                    }
                });
                while (!stop.get()) {
                    ConsumerRecords<String, String> recs = c.poll(Duration.ofMillis(200));
                    if (recs.isEmpty()) continue;
                    try {
                        c.commitSync(Duration.ofSeconds(15));
                    } catch (Exception e) {
                        errors.add("commit: " + e);
                    }
                    for (ConsumerRecord<String, String> r : recs) seen.add(Integer.parseInt(r.value()));
                }
            } catch (Exception e) {
                errors.add("run: " + e);
            }
            closed = true;
        }

        void leave() throws InterruptedException {
            stop.set(true);
            thread.join(30_000);
        }
    }

    static boolean produce(String bootstrap, int start, int count) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> prod = new KafkaProducer<>(p)) {
            for (int i = start; i < start + count; i++)
                prod.send(new ProducerRecord<>(TOPIC, Integer.toString(i), Integer.toString(i)));
            prod.flush();
        }
        return true;
    }

    static boolean settled(List<Member> ms, int each) {
        Set<Integer> union = new HashSet<>();
        int total = 0;
        for (Member m : ms) {
            if (m.owned.size() != each) return false;
            union.addAll(m.owned);
            total += m.owned.size();
        }
        return union.size() == PARTITIONS && total == PARTITIONS;
    }

    static List<Integer> allSeen(List<Member> ms) {
        List<Integer> all = new ArrayList<>();
        for (Member m : ms) synchronized (m.seen) { all.addAll(m.seen); }
        return all;
    }

    static String owners(List<Member> ms) {
        StringBuilder sb = new StringBuilder();
        for (Member m : ms) sb.append(m.name).append('=').append(new TreeSet<>(m.owned)).append(' ');
        return sb.toString().trim();
    }

    /** Checks describeConsumerGroups: a CONSUMER group with `members` members owning all partitions. */
    static void describe(Admin admin, int members) throws Exception {
        Map<String, ConsumerGroupDescription> d =
            admin.describeConsumerGroups(List.of(GROUP)).all().get(30, TimeUnit.SECONDS);
        ConsumerGroupDescription g = d.get(GROUP);
        Set<Integer> union = new HashSet<>();
        int total = 0;
        StringBuilder sb = new StringBuilder();
        for (MemberDescription m : g.members()) {
            for (TopicPartition tp : m.assignment().topicPartitions()) {
                if (tp.topic().equals(TOPIC)) union.add(tp.partition());
                total++;
            }
            sb.append(m.clientId()).append(':').append(m.assignment().topicPartitions().size()).append(' ');
        }
        check(g.type() == GroupType.CONSUMER && g.members().size() == members
                && union.size() == PARTITIONS && total == PARTITIONS,
            "describeConsumerGroups: type " + g.type() + ", state " + g.groupState() + ", "
                + g.members().size() + " members (" + sb.toString().trim() + "), assignor "
                + g.partitionAssignor());
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(ap)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get(30, TimeUnit.SECONDS);
            check(produce(bootstrap, 0, PHASE), "produced the first 1,000 records");
            List<Member> ms = new ArrayList<>(List.of(new Member(bootstrap, "j0"), new Member(bootstrap, "j1")));
            check(waitUntil(() -> settled(ms, 3), STEP_TIMEOUT_MS), "two members settle on 3 + 3: " + owners(ms));
            check(waitUntil(() -> new HashSet<>(allSeen(ms)).size() >= PHASE, STEP_TIMEOUT_MS),
                "the group consumed the first 1,000 (" + new HashSet<>(allSeen(ms)).size() + " distinct)");
            describe(admin, 2);

            Member leaver = ms.get(1);
            leaver.leave();
            check(leaver.closed, "j1 closed (left the group)");
            List<Member> rest = List.of(ms.get(0));
            check(produce(bootstrap, PHASE, PHASE), "produced 1,000 more");
            check(waitUntil(() -> settled(rest, 6), STEP_TIMEOUT_MS), "j0 takes over all 6: " + owners(rest));
            check(waitUntil(() -> new HashSet<>(allSeen(ms)).size() >= 2 * PHASE, STEP_TIMEOUT_MS),
                "all 2,000 consumed (" + new HashSet<>(allSeen(ms)).size() + " distinct)");
            List<Integer> seen = allSeen(ms);
            check(seen.size() == new HashSet<>(seen).size(),
                "no record consumed twice (" + (seen.size() - new HashSet<>(seen).size()) + " duplicates)");
            describe(admin, 1);
            List<String> errs = new ArrayList<>();
            for (Member m : ms) errs.addAll(m.errors);
            check(errs.isEmpty(), "no client errors: " + errs);
            ms.get(0).leave();
            check(ms.get(0).closed, "j0 closed");
        } catch (Exception e) {
            check(false, "unexpected exception: " + e);
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.out.flush();
        System.exit(failed == 0 ? 0 : 1);
    }
}
