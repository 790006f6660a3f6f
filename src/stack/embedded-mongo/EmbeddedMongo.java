import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local stack's MongoDB-wire server: mongo-java-server with an H2 file (npm start, tests) or in
 * memory. Usage: EmbeddedMongo <host> <port> <h2-file | :memory:>
 *
 * mongo-java-server announces wire version 8 at most, and the mongodb 7 Node driver refuses servers
 * below 9 (MongoDB 4.4). The commands this project sends behave the same at 13, so it announces
 * MongoDB 5.0.
 *
 * H2 on its own writes changes to the file about once a second, so a killed server (the outage tests
 * do that) would forget the last second of acknowledged writes. This one commits before it answers a
 * write, like MongoDB's journal: a write that was acknowledged survives a crash of the process.
 */
public final class EmbeddedMongo {
  private static final MongoVersion MONGO_5_0 = new MongoVersion() {
    @Override
    public List<Integer> getVersionArray() {
      return List.of(5, 0, 0);
    }

    @Override
    public int getWireVersion() {
      return 13;
    }
  };

  private static final Set<String> WRITE_COMMANDS = Set.of(
      "insert", "update", "delete", "findandmodify", "createindexes", "dropindexes", "drop",
      "dropdatabase", "create", "renamecollection");

  /**
   * Commits before it answers a write, in groups: a write waits for the first commit that starts after
   * it, and one commit covers every write finished by then (a commit costs about as much for one
   * write as for many, so under load most writes share one).
   */
  private static final class CommittingH2Backend extends H2Backend {
    private final Object commitLock = new Object();
    private final AtomicLong writesDone = new AtomicLong();
    private volatile long writesCommitted = 0;

    CommittingH2Backend(String file) {
      super(file);
    }

    @Override
    public Document handleCommand(Channel channel, String database, String command, Document query) {
      Document result = super.handleCommand(channel, database, command, query);
      if (WRITE_COMMANDS.contains(command.toLowerCase())) commitIncluding(writesDone.incrementAndGet());
      return result;
    }

    private void commitIncluding(long write) {
      if (writesCommitted >= write) return;
      synchronized (commitLock) {
        if (writesCommitted >= write) return; // the commit we waited for included this write
        long upTo = writesDone.get(); // every write counted so far has finished: this commit holds it
        commit();
        writesCommitted = upTo;
      }
    }
  }

  public static void main(String[] args) {
    if (args.length != 3) {
      System.err.println("usage: EmbeddedMongo <host> <port> <h2-file | :memory:>");
      System.exit(2);
    }
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    MongoBackend backend = ":memory:".equals(args[2]) ? new MemoryBackend() : new CommittingH2Backend(args[2]);
    backend.version(MONGO_5_0);
    MongoServer server = new MongoServer(backend);
    // SIGTERM: stop accepting, then close the backend, which writes H2's last changes to the file.
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown, "shutdown"));
    // One boss thread, 16 workers: a worker waits while its write commits, and the others go on.
    server.bind(new InetSocketAddress(host, port), 1, 16);
    System.out.println("embedded-mongo listening on " + host + ":" + port + " (" + args[2] + ")");
  }
}
