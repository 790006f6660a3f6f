import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import java.util.List;
import java.util.Set;

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

  private static final class CommittingH2Backend extends H2Backend {
    CommittingH2Backend(String file) {
      super(file);
    }

    @Override
    public Document handleCommand(Channel channel, String database, String command, Document query) {
      Document result = super.handleCommand(channel, database, command, query);
      if (WRITE_COMMANDS.contains(command.toLowerCase())) commit();
      return result;
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
    server.bind(host, port);
    System.out.println("embedded-mongo listening on " + host + ":" + port + " (" + args[2] + ")");
  }
}
