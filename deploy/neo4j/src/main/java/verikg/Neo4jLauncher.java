package verikg;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;

/**
 * Runs a Neo4j 5.26 Community DBMS in this JVM with its Bolt connector on 127.0.0.1.
 *
 * Arguments: --home DIR --port PORT --password PASSWORD. Authentication is on: the built-in
 * user "neo4j" gets the given password, so clients connect exactly as they would to a server.
 * The process prints "VERIKG_NEO4J_READY bolt://127.0.0.1:PORT" once Bolt accepts
 * connections and shuts the DBMS down cleanly on SIGTERM.
 */
public final class Neo4jLauncher {
    private Neo4jLauncher() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        Path home = Path.of(opts.getOrDefault("--home", "target/neo4j-home")).toAbsolutePath();
        int port = Integer.parseInt(opts.getOrDefault("--port", "7687"));
        String password = opts.get("--password");
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
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            dbms.shutdown();
            stopped.countDown();
        }, "neo4j-shutdown"));

        // The system database holds users; set the password without a forced change so a
        // driver can log straight in (idempotent across restarts on the same home).
        dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).executeTransactionally("RETURN 1");

        System.out.println("VERIKG_NEO4J_READY bolt://127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }

    private static Map<String, String> parse(String[] args) {
        java.util.HashMap<String, String> out = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            out.put(args[i], args[i + 1]);
        }
        return out;
    }
}
