import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.bson.BsonDecoder;
import de.bwaldvogel.mongo.wire.bson.BsonEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local stack's MongoDB-wire server: mongo-java-server in memory, made durable by a journal file
 * (npm start, tests, benches), or on an H2 file (data folders made before the journal), or in memory
 * only. Usage: EmbeddedMongo <host> <port> <file.journal | file.mv.db | :memory:>
 *
 * mongo-java-server announces wire version 8 at most, and the mongodb 7 Node driver refuses servers
 * below 9 (MongoDB 4.4). The commands this project sends behave the same at 13, so it announces
 * MongoDB 5.0.
 *
 * Both durable stores write a write down before they answer it, like MongoDB's journal: a write that
 * was acknowledged survives a crash of the process (the outage tests kill the server).
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

  /**
   * The in-memory backend made durable by a journal: every write command is appended (BSON, with its
   * database) to a file before it is answered, and replayed in order at the next start. Writes run one
   * at a time, so the journal's order is the order they took effect and a replay ends in the same
   * state (a command that failed fails again the same way). Several times faster than H2, whose
   * backend stores each document with Java serialization. The file only grows: delete the data folder
   * to start over.
   */
  private static final class JournaledMemoryBackend extends MemoryBackend {
    private final Object writeLock = new Object();
    private final FileChannel journal;

    JournaledMemoryBackend(Path file) throws IOException {
      long replayed = replay(file);
      journal = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
      if (replayed > 0) System.out.println("embedded-mongo replayed " + replayed + " writes from " + file);
    }

    @Override
    public Document handleCommand(Channel channel, String database, String command, Document query) {
      if (!WRITE_COMMANDS.contains(command.toLowerCase())) return super.handleCommand(channel, database, command, query);
      synchronized (writeLock) {
        try {
          return super.handleCommand(channel, database, command, query);
        } finally {
          append(database, command, query);
        }
      }
    }

    private void append(String database, String command, Document query) {
      Document entry = new Document();
      entry.put("d", database);
      entry.put("c", command);
      entry.put("q", query);
      ByteBuf buffer = Unpooled.buffer();
      try {
        BsonEncoder.encodeDocument(entry, buffer);
        ByteBuffer bytes = buffer.nioBuffer();
        while (bytes.hasRemaining()) journal.write(bytes);
      } catch (IOException e) {
        // A write that cannot be journaled must not be acknowledged as durable: stop the server.
        System.err.println("embedded-mongo: journal write failed: " + e);
        Runtime.getRuntime().halt(3);
      } finally {
        buffer.release();
      }
    }

    private long replay(Path file) throws IOException {
      if (!Files.exists(file)) return 0;
      byte[] all = Files.readAllBytes(file);
      ByteBuf buffer = Unpooled.wrappedBuffer(all);
      Channel channel = new EmbeddedChannel();
      long count = 0;
      while (buffer.readableBytes() >= 4) {
        int length = buffer.getIntLE(buffer.readerIndex());
        if (length < 5 || length > buffer.readableBytes()) break; // a torn last entry: never acknowledged
        Document entry = BsonDecoder.decodeBson(buffer);
        try {
          super.handleCommand(channel, (String) entry.get("d"), (String) entry.get("c"), (Document) entry.get("q"));
        } catch (RuntimeException ignored) {
          // It failed the first time too (a duplicate key, say): same outcome, same state.
        }
        count += 1;
      }
      if (buffer.readableBytes() > 0) {
        // Drop the torn tail so that new entries follow the last whole one.
        try (FileChannel truncate = FileChannel.open(file, StandardOpenOption.WRITE)) {
          truncate.truncate(buffer.readerIndex());
        }
      }
      return count;
    }
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 3) {
      System.err.println("usage: EmbeddedMongo <host> <port> <file.journal | file.mv.db | :memory:>");
      System.exit(2);
    }
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    String store = args[2];
    MongoBackend backend;
    if (":memory:".equals(store)) backend = new MemoryBackend();
    else if (store.endsWith(".mv.db")) backend = new CommittingH2Backend(store);
    else backend = new JournaledMemoryBackend(Path.of(store));
    backend.version(MONGO_5_0);
    MongoServer server = new MongoServer(backend);
    // SIGTERM: stop accepting, then close the backend (H2 writes its last changes to the file).
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown, "shutdown"));
    // One boss thread, 16 workers: a worker waiting on a commit does not hold up the others.
    server.bind(new InetSocketAddress(host, port), 1, 16);
    System.out.println("embedded-mongo listening on " + host + ":" + port + " (" + store + ")");
  }
}
