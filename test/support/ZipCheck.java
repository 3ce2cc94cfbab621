import java.io.BufferedInputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Enumeration;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;

/**
 * Reads a zip with both JDK readers and prints what each saw, one tab-separated line per entry:
 *
 *   zipfile|stream  name  bytesRead  crcOfBytesRead(hex)  entrySize  entryCrc(hex)  method  mtimeMillis
 *
 * then "zipfile-ok N" / "stream-ok N", or "zipfile-error ..." / "stream-error ..." (exit status 1).
 * java.util.zip.ZipFile reads the central directory; java.util.zip.ZipInputStream reads forward only, from local
 * headers and data descriptors, as a streaming consumer would.
 *
 * Usage: java test/support/ZipCheck.java <file> [both|zipfile|stream]
 */
public class ZipCheck {
    public static void main(String[] args) throws Exception {
        String file = args[0];
        String mode = args.length > 1 ? args[1] : "both";
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        boolean ok = true;
        if (!mode.equals("stream")) ok &= readZipFile(file, out);
        if (!mode.equals("zipfile")) ok &= readStream(file, out);
        out.flush();
        System.exit(ok ? 0 : 1);
    }

    private static void line(PrintStream out, String reader, ZipEntry e, long n, CRC32 crc) {
        out.println(reader + "\t" + e.getName() + "\t" + n + "\t" + Long.toHexString(crc.getValue()) + "\t"
                + e.getSize() + "\t" + Long.toHexString(e.getCrc()) + "\t" + e.getMethod() + "\t"
                + (e.getLastModifiedTime() == null ? -1 : e.getLastModifiedTime().toMillis()));
    }

    private static long drain(InputStream in, CRC32 crc, byte[] buf) throws Exception {
        long n = 0;
        int r;
        while ((r = in.read(buf)) > 0) {
            crc.update(buf, 0, r);
            n += r;
        }
        return n;
    }

    private static boolean readZipFile(String file, PrintStream out) {
        byte[] buf = new byte[1 << 16];
        try (ZipFile z = new ZipFile(file, StandardCharsets.UTF_8)) {
            Enumeration<? extends ZipEntry> en = z.entries();
            int count = 0;
            while (en.hasMoreElements()) {
                ZipEntry e = en.nextElement();
                CRC32 crc = new CRC32();
                long n;
                try (InputStream in = z.getInputStream(e)) {
                    n = drain(in, crc, buf);
                }
                line(out, "zipfile", e, n, crc);
                count++;
            }
            out.println("zipfile-ok\t" + count);
            return true;
        } catch (Exception ex) {
            out.println("zipfile-error\t" + ex.toString().replace('\n', ' '));
            return false;
        }
    }

    private static boolean readStream(String file, PrintStream out) {
        byte[] buf = new byte[1 << 16];
        try (ZipInputStream z = new ZipInputStream(new BufferedInputStream(new FileInputStream(file), 1 << 16),
                StandardCharsets.UTF_8)) {
            int count = 0;
            ZipEntry e;
            while ((e = z.getNextEntry()) != null) {
                CRC32 crc = new CRC32();
                long n = drain(z, crc, buf);
                line(out, "stream", e, n, crc);
                count++;
            }
            out.println("stream-ok\t" + count);
            return true;
        } catch (Exception ex) {
            out.println("stream-error\t" + ex.toString().replace('\n', ' '));
            return false;
        }
    }
}
