using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Xo.Tracker
{
    /// <summary>UTF-8 marshalling for `const char *`, identical on Mono, .NET and IL2CPP.</summary>
    internal static class Utf8
    {
        private static readonly UTF8Encoding Strict = new UTF8Encoding(false, false);

        /// <summary>NUL-terminated UTF-8 bytes of s, or null for a null string (passed as NULL).</summary>
        public static byte[] ToNative(string s)
        {
            if (s == null)
                return null;
            var bytes = new byte[Strict.GetByteCount(s) + 1];
            Strict.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        /// <summary>Allocates a NUL-terminated UTF-8 copy with AllocHGlobal (IntPtr.Zero for null).</summary>
        public static IntPtr Alloc(string s)
        {
            if (s == null)
                return IntPtr.Zero;
            var bytes = ToNative(s);
            var ptr = Marshal.AllocHGlobal(bytes.Length);
            Marshal.Copy(bytes, 0, ptr, bytes.Length);
            return ptr;
        }

        /// <summary>Reads a NUL-terminated UTF-8 string; null for NULL.</summary>
        public static string FromNative(IntPtr ptr)
        {
            if (ptr == IntPtr.Zero)
                return null;
            var length = 0;
            while (Marshal.ReadByte(ptr, length) != 0)
                length++;
            if (length == 0)
                return "";
            var bytes = new byte[length];
            Marshal.Copy(ptr, bytes, 0, length);
            return Strict.GetString(bytes);
        }
    }
}
