package verikg;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.QueryExecutionException;

/**
 * Runs a Neo4j 5.26 Community DBMS in this JVM with its Bolt connector on 127.0.0.1.
 *
 * Arguments: --home DIR --port PORT [--password PASSWORD] [--pagecache SIZE]. Authentication
 * is on: the built-in user "neo4j" gets the given password, so clients connect exactly as they
 * would to a server. Without --password the environment variable VERIKG_NEO4J_LAUNCHER_PASSWORD
 * is used, which keeps the secret out of the process list (launch.sh does this). --pagecache
 * (bytes, or with a k/m/g suffix; default 128m) keeps a development instance small.
 * The process prints "VERIKG_NEO4J_READY bolt://127.0.0.1:PORT" once Bolt accepts
 * connections and shuts the DBMS down cleanly on SIGTERM.
 */
public final class Neo4jLauncher {
    private Neo4jLauncher() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        Path home = Path.of(opts.getOrDefault("--home", "target/neo4j-home")).toAbsolutePath();
        int port = Integer.parseInt(opts.getOrDefault("--port", "7687"));
        String password = opts.getOrDefault("--password",
                System.getenv("VERIKG_NEO4J_LAUNCHER_PASSWORD"));
        long pagecache = parseBytes(opts.getOrDefault("--pagecache", "128m"));
        if (password == null || password.length() < 8) {
            System.err.println("neo4j launcher: --password of at least 8 characters is required");
            System.exit(2);
        }
        Files.createDirectories(home);

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.transaction_timeout, Duration.ofMinutes(5))
                .setConfig(GraphDatabaseSettings.pagecache_memory, pagecache)
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean down = new AtomicBoolean(false);
        Runnable shutdown = () -> {
            if (down.compareAndSet(false, true)) {
                dbms.shutdown();
            }
            stopped.countDown();
        };
        Runtime.getRuntime().addShutdownHook(new Thread(shutdown, "neo4j-shutdown"));

        try {
            setPassword(dbms, password);
            dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME)
                    .executeTransactionally("RETURN 1");
        } catch (RuntimeException e) {
            // The DBMS's own threads would keep this JVM alive with no READY line; a launcher
            // that cannot finish starting must exit so the caller sees the failure at once.
            System.err.println("neo4j launcher: start-up failed: " + e);
            e.printStackTrace();
            System.exit(1);
        }

        System.out.println("VERIKG_NEO4J_READY bolt://127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }

    /**
     * Sets the neo4j user's password without a forced change, so a driver can log straight in.
     * Idempotent across restarts on the same home: Neo4j refuses to "change" a password to
     * the one it already has, which here means there is nothing to do.
     */
    private static void setPassword(DatabaseManagementService dbms, String password) {
        try {
            dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        } catch (QueryExecutionException e) {
            if (!String.valueOf(e.getMessage()).contains("cannot be the same")) {
                throw e;
            }
        }
    }

    private static long parseBytes(String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        long unit = 1;
        char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
        if (last == 'k' || last == 'm' || last == 'g') {
            unit = last == 'k' ? 1L << 10 : last == 'm' ? 1L << 20 : 1L << 30;
            t = t.substring(0, t.length() - 1);
        }
        return Long.parseLong(t) * unit;
    }

    private static Map<String, String> parse(String[] args) {
        java.util.HashMap<String, String> out = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            out.put(args[i], args[i + 1]);
        }
        return out;
    }
}
