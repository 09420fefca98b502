using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Xo.Tracker.Tests
{
    /// <summary>
    /// Compares NativeMethods (and the enums it uses) with include/xo_tracker.h, both ways:
    /// functions (name, entry point, calling convention, return and parameter types), callback
    /// typedefs, enums (every constant and value), structs (field names, order, types, offsets,
    /// size) and #defines. Struct offsets are also compared with what a C compiler says, when cc
    /// is available. Any difference is a failure naming the declaration.
    /// </summary>
    internal static class HeaderCheck
    {
        private sealed class CFunction
        {
            public string Name;
            public string Return;
            public List<KeyValuePair<string, string>> Params; // type, name
        }

        private sealed class CField
        {
            public string Type;
            public string Name;
        }

        public static void Run(string headerPath, string workDir)
        {
            var text = StripComments(File.ReadAllText(headerPath));
            var native = typeof(XoTracker).Assembly.GetType("Xo.Tracker.NativeMethods", true);
            var all = typeof(XoTracker).Assembly.GetTypes();

            var enumsByC = all.Where(t => t.IsEnum && Attr(t) != null).ToDictionary(t => Attr(t).Name);
            var structsByC = native.GetNestedTypes(BindingFlags.NonPublic | BindingFlags.Public)
                .Where(t => t.IsValueType && Attr(t) != null).ToDictionary(t => Attr(t).Name);
            var delegatesByC = native.GetNestedTypes(BindingFlags.NonPublic | BindingFlags.Public)
                .Where(t => typeof(Delegate).IsAssignableFrom(t) && Attr(t) != null).ToDictionary(t => Attr(t).Name);

            // ---- #defines
            var defines = Regex.Matches(text, @"#define\s+(XO_\w+)\s+(-?\d+)").Cast<Match>()
                .ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value));
            T.Check(defines.Count >= 2, "header: #defines found");
            foreach (var define in defines)
            {
                var field = native.GetField(define.Key, BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Public);
                T.Check(field != null && field.IsLiteral, "header #define " + define.Key + " has a C# const");
                if (field != null)
                    T.Check(Convert.ToInt64(field.GetRawConstantValue()) == define.Value,
                        "#define " + define.Key + " = " + define.Value + " matches C# " + field.GetRawConstantValue());
            }

            // ---- enums
            var enumMatches = Regex.Matches(text, @"enum\s+(xo_\w+)[^{;]*\{([^}]*)\}\s*;").Cast<Match>().ToList();
            T.Check(enumMatches.Count >= 8, "header: enums found (" + enumMatches.Count + ")");
            var cEnumNames = new HashSet<string>();
            foreach (var m in enumMatches)
            {
                var cName = m.Groups[1].Value;
                cEnumNames.Add(cName);
                Type cs;
                if (!enumsByC.TryGetValue(cName, out cs))
                {
                    T.Check(false, "header enum " + cName + " has a C# enum with [NativeType(\"" + cName + "\")]");
                    continue;
                }
                T.Check(Enum.GetUnderlyingType(cs) == typeof(int), "C# enum " + cs.Name + " is int (int32_t)");
                var prefix = Attr(cs).ConstantPrefix;
                var cConstants = Regex.Matches(m.Groups[2].Value, @"(\w+)\s*=\s*(-?\d+)").Cast<Match>()
                    .ToDictionary(c => c.Groups[1].Value, c => int.Parse(c.Groups[2].Value));
                var csConstants = Enum.GetNames(cs).ToDictionary(n => prefix + ToScreamingSnake(n), n => (int)Enum.Parse(cs, n));
                foreach (var c in cConstants)
                {
                    int value;
                    T.Check(csConstants.TryGetValue(c.Key, out value) && value == c.Value,
                        "enum " + cName + ": " + c.Key + " = " + c.Value + " exists in C# " + cs.Name);
                }
                foreach (var c in csConstants)
                    T.Check(cConstants.ContainsKey(c.Key), "C# " + cs.Name + " constant " + c.Key + " exists in the header");
            }
            foreach (var cs in enumsByC)
                T.Check(cEnumNames.Contains(cs.Key), "C# enum " + cs.Value.Name + " maps to header enum " + cs.Key);

            // ---- structs
            var structMatches = Regex.Matches(text, @"typedef\s+struct\s+(xo_\w+)\s*\{([^}]*)\}\s*(\w+)\s*;").Cast<Match>().ToList();
            T.Check(structMatches.Count >= 2, "header: structs found (" + structMatches.Count + ")");
            var cStructs = new Dictionary<string, List<CField>>();
            foreach (var m in structMatches)
            {
                var cName = m.Groups[1].Value;
                var fields = m.Groups[2].Value.Split(';').Select(f => f.Trim()).Where(f => f.Length > 0)
                    .Select(SplitDeclaration).Select(kv => new CField { Type = kv.Key, Name = kv.Value }).ToList();
                cStructs[cName] = fields;
                Type cs;
                if (!structsByC.TryGetValue(cName, out cs))
                {
                    T.Check(false, "header struct " + cName + " has a C# struct with [NativeType(\"" + cName + "\")]");
                    continue;
                }
                T.Check(cs.IsLayoutSequential, "C# " + cs.Name + " has sequential layout");
                var csFields = cs.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
                    .OrderBy(f => (long)Marshal.OffsetOf(cs, f.Name)).ToList();
                T.Check(csFields.Count == fields.Count,
                    cName + ": " + fields.Count + " fields in the header, " + csFields.Count + " in C#");
                var offset = 0;
                var maxAlign = 1;
                for (var i = 0; i < Math.Min(fields.Count, csFields.Count); i++)
                {
                    var cf = fields[i];
                    var f = csFields[i];
                    T.Check(cf.Name == f.Name, cName + " field " + i + ": header " + cf.Name + ", C# " + f.Name);
                    T.Check(Maps(cf.Type, f.FieldType, Context.Field, enumsByC, structsByC, delegatesByC),
                        cName + "." + cf.Name + ": C type '" + cf.Type + "' vs C# " + f.FieldType.Name);
                    var size = CSize(cf.Type);
                    offset = (offset + size - 1) / size * size;
                    maxAlign = Math.Max(maxAlign, size);
                    T.Check((long)Marshal.OffsetOf(cs, f.Name) == offset,
                        cName + "." + cf.Name + ": C offset " + offset + ", C# " + Marshal.OffsetOf(cs, f.Name));
                    offset += size;
                }
                var cSize = (offset + maxAlign - 1) / maxAlign * maxAlign;
                T.Check(Marshal.SizeOf(cs) == cSize, "sizeof(" + cName + ") = " + cSize + ", C# " + Marshal.SizeOf(cs));
            }
            foreach (var cs in structsByC)
                T.Check(cStructs.ContainsKey(cs.Key), "C# struct " + cs.Value.Name + " maps to header struct " + cs.Key);
            CompareWithCompiler(headerPath, workDir, cStructs, structsByC);

            // ---- callback typedefs
            var callbackMatches = Regex.Matches(text, @"typedef\s+(\w+)\s*\(\s*\*\s*(xo_\w+)\s*\)\s*\(([^)]*)\)\s*;").Cast<Match>().ToList();
            T.Check(callbackMatches.Count >= 2, "header: callback typedefs found (" + callbackMatches.Count + ")");
            var cCallbacks = new HashSet<string>();
            foreach (var m in callbackMatches)
            {
                var cName = m.Groups[2].Value;
                cCallbacks.Add(cName);
                Type cs;
                if (!delegatesByC.TryGetValue(cName, out cs))
                {
                    T.Check(false, "header callback " + cName + " has a C# delegate with [NativeType(\"" + cName + "\")]");
                    continue;
                }
                var ufp = (UnmanagedFunctionPointerAttribute)cs.GetCustomAttributes(typeof(UnmanagedFunctionPointerAttribute), false).FirstOrDefault();
                T.Check(ufp != null && ufp.CallingConvention == CallingConvention.Cdecl, "delegate " + cs.Name + " is Cdecl");
                var invoke = cs.GetMethod("Invoke");
                CompareSignature(cName, m.Groups[1].Value, ParseParams(m.Groups[3].Value), invoke, Context.Callback,
                    enumsByC, structsByC, delegatesByC);
            }
            foreach (var cs in delegatesByC)
                T.Check(cCallbacks.Contains(cs.Key), "C# delegate " + cs.Value.Name + " maps to header typedef " + cs.Key);

            // ---- functions
            var functions = Regex.Matches(text, @"^[ \t]*((?:const\s+)?(?:struct\s+)?\w+[\s\*]+)(xo_\w+)\s*\(([^)]*)\)\s*;",
                    RegexOptions.Multiline).Cast<Match>()
                .Where(m => !m.Value.TrimStart().StartsWith("typedef", StringComparison.Ordinal))
                .Select(m => new CFunction
                {
                    Return = Normalize(m.Groups[1].Value),
                    Name = m.Groups[2].Value,
                    Params = ParseParams(m.Groups[3].Value),
                }).ToList();
            T.Check(functions.Count >= 12, "header: functions found (" + functions.Count + ")");
            var methods = native.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
                .Where(mi => (mi.Attributes & MethodAttributes.PinvokeImpl) != 0).ToList();
            foreach (var f in functions)
            {
                var mi = methods.FirstOrDefault(x => x.Name == f.Name);
                if (mi == null)
                {
                    T.Check(false, "header function " + f.Name + " is declared in NativeMethods");
                    continue;
                }
                var dll = (DllImportAttribute)mi.GetCustomAttributes(typeof(DllImportAttribute), false).FirstOrDefault();
                T.Check(dll != null, f.Name + ": [DllImport] readable");
                if (dll != null)
                {
                    T.Check(dll.Value == NativeLibraryName(native), f.Name + ": DllImport library " + dll.Value);
                    T.Check(dll.EntryPoint == f.Name, f.Name + ": EntryPoint " + dll.EntryPoint);
                    T.Check(dll.CallingConvention == CallingConvention.Cdecl, f.Name + ": Cdecl");
                    T.Check(dll.ExactSpelling, f.Name + ": ExactSpelling");
                }
                CompareSignature(f.Name, f.Return, f.Params, mi, Context.Function, enumsByC, structsByC, delegatesByC);
            }
            foreach (var mi in methods)
                T.Check(functions.Any(f => f.Name == mi.Name), "C# P/Invoke " + mi.Name + " exists in the header");
        }

        private enum Context
        {
            Function,
            Callback,
            Field,
        }

        private static void CompareSignature(string name, string cReturn, List<KeyValuePair<string, string>> cParams, MethodInfo mi,
            Context context, Dictionary<string, Type> enums, Dictionary<string, Type> structs, Dictionary<string, Type> delegates)
        {
            T.Check(Maps(Normalize(cReturn), mi.ReturnType, context, enums, structs, delegates, true),
                name + ": return '" + cReturn + "' vs C# " + mi.ReturnType.Name);
            var ps = mi.GetParameters();
            T.Check(ps.Length == cParams.Count, name + ": " + cParams.Count + " parameters in the header, " + ps.Length + " in C#");
            for (var i = 0; i < Math.Min(ps.Length, cParams.Count); i++)
            {
                T.Check(Maps(cParams[i].Key, ps[i].ParameterType, context, enums, structs, delegates),
                    name + " parameter " + cParams[i].Value + ": '" + cParams[i].Key + "' vs C# " + ps[i].ParameterType.Name);
                T.Check(cParams[i].Value == ps[i].Name || context == Context.Callback && ps[i].Name == "evt" && cParams[i].Value == "event",
                    name + " parameter " + i + " named " + cParams[i].Value + " (C# " + ps[i].Name + ")");
            }
        }

        /// <summary>Whether a C type may be declared as this C# type in the given position.</summary>
        private static bool Maps(string c, Type cs, Context context, Dictionary<string, Type> enums,
            Dictionary<string, Type> structs, Dictionary<string, Type> delegates, bool isReturn = false)
        {
            c = Normalize(c);
            switch (c)
            {
                case "void":
                    return cs == typeof(void);
                case "uint32_t":
                    return cs == typeof(uint);
                case "int32_t":
                    return cs == typeof(int);
                case "int64_t":
                    return cs == typeof(long);
                case "void *":
                    return cs == typeof(IntPtr);
                case "const char *":
                    // Input strings of functions: NUL-terminated UTF-8 bytes. Everything else: IntPtr.
                    return context == Context.Function && !isReturn ? cs == typeof(byte[]) : cs == typeof(IntPtr);
            }
            Type mapped;
            if (enums.TryGetValue(c, out mapped))
                return cs == mapped || cs == typeof(int);
            var pointee = Regex.Match(c, @"^const struct (xo_\w+) \*$");
            if (pointee.Success)
            {
                if (context != Context.Function)
                    return cs == typeof(IntPtr);
                return cs == typeof(IntPtr) ||
                       cs.IsByRef && structs.TryGetValue(pointee.Groups[1].Value, out mapped) && cs.GetElementType() == mapped;
            }
            if (delegates.TryGetValue(c, out mapped))
                return cs == mapped;
            return false;
        }

        /// <summary>Size and alignment of a C field type on this platform (all fields are scalars).</summary>
        private static int CSize(string c)
        {
            c = Normalize(c);
            if (c.EndsWith("*", StringComparison.Ordinal))
                return IntPtr.Size;
            switch (c)
            {
                case "int64_t":
                case "uint64_t":
                    return 8;
                default:
                    return 4; // uint32_t, int32_t, and enums (int32_t)
            }
        }

        /// <summary>Compiles a C program that prints offsetof/sizeof from the real header, and compares.</summary>
        private static void CompareWithCompiler(string headerPath, string workDir, Dictionary<string, List<CField>> cStructs,
            Dictionary<string, Type> structsByC)
        {
            var cc = FindOnPath("cc") ?? FindOnPath("gcc") ?? FindOnPath("clang");
            if (cc == null)
            {
                Console.WriteLine("note: no C compiler: struct offsets checked against the C layout rules only");
                return;
            }
            var source = new System.Text.StringBuilder();
            source.AppendLine("#include <stdio.h>\n#include <stddef.h>\n#include \"xo_tracker.h\"\nint main(void) {");
            foreach (var s in cStructs)
            {
                source.AppendLine("  printf(\"" + s.Key + " sizeof %zu\\n\", sizeof(" + s.Key + "));");
                foreach (var f in s.Value)
                    source.AppendLine("  printf(\"" + s.Key + " " + f.Name + " %zu\\n\", offsetof(" + s.Key + ", " + f.Name + "));");
            }
            source.AppendLine("  return 0;\n}");
            var cPath = Path.Combine(workDir, "layout.c");
            var exe = Path.Combine(workDir, "layout");
            File.WriteAllText(cPath, source.ToString());
            var compile = RunProcess(cc, "-std=c11 -Wall -Werror -I\"" + Path.GetDirectoryName(Path.GetFullPath(headerPath)) +
                                         "\" -o \"" + exe + "\" \"" + cPath + "\"");
            T.Check(compile.Key == 0, "layout.c compiles against the header: " + compile.Value);
            if (compile.Key != 0)
                return;
            var run = RunProcess(exe, "");
            T.Check(run.Key == 0, "layout program runs");
            foreach (var line in run.Value.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0))
            {
                var parts = line.Split(' ');
                Type cs;
                if (!structsByC.TryGetValue(parts[0], out cs))
                    continue;
                var expected = long.Parse(parts[2]);
                if (parts[1] == "sizeof")
                    T.Check(Marshal.SizeOf(cs) == expected, "cc: sizeof(" + parts[0] + ") = " + expected + ", C# " + Marshal.SizeOf(cs));
                else
                {
                    var field = cs.GetField(parts[1], BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
                    T.Check(field != null && (long)Marshal.OffsetOf(cs, parts[1]) == expected,
                        "cc: offsetof(" + parts[0] + ", " + parts[1] + ") = " + expected + " in C#");
                }
            }
        }

        private static KeyValuePair<int, string> RunProcess(string file, string args)
        {
            var info = new ProcessStartInfo(file, args)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using (var p = Process.Start(info))
            {
                var err = p.StandardError.ReadToEndAsync();
                var output = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                return new KeyValuePair<int, string>(p.ExitCode, output + err.Result);
            }
        }

        private static string FindOnPath(string name)
        {
            var path = Environment.GetEnvironmentVariable("PATH") ?? "";
            foreach (var dir in path.Split(Path.PathSeparator))
            {
                if (dir.Length == 0)
                    continue;
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                    return candidate;
            }
            return null;
        }

        private static string NativeLibraryName(Type native)
        {
            return (string)native.GetField("LibraryName", BindingFlags.NonPublic | BindingFlags.Static).GetRawConstantValue();
        }

        private static NativeTypeAttribute Attr(Type t)
        {
            return (NativeTypeAttribute)t.GetCustomAttributes(typeof(NativeTypeAttribute), false).FirstOrDefault();
        }

        private static List<KeyValuePair<string, string>> ParseParams(string text)
        {
            text = Normalize(text);
            if (text == "void" || text.Length == 0)
                return new List<KeyValuePair<string, string>>();
            return text.Split(',').Select(p => SplitDeclaration(p.Trim())).ToList();
        }

        /// <summary>"const char *token" -> ("const char *", "token").</summary>
        private static KeyValuePair<string, string> SplitDeclaration(string declaration)
        {
            var m = Regex.Match(Normalize(declaration), @"^(.*?)\s*(\w+)$");
            return new KeyValuePair<string, string>(Normalize(m.Groups[1].Value), m.Groups[2].Value);
        }

        /// <summary>Collapses whitespace and writes pointers as "type *".</summary>
        private static string Normalize(string c)
        {
            c = Regex.Replace(c, @"\s+", " ").Trim();
            c = Regex.Replace(c, @"\s*\*\s*", " *");
            c = Regex.Replace(c, @"\*\s+\*", "**");
            return c.Trim();
        }

        private static string StripComments(string text)
        {
            text = Regex.Replace(text, @"/\*.*?\*/", " ", RegexOptions.Singleline);
            return Regex.Replace(text, @"//[^\n]*", "");
        }

        /// <summary>"TimedOut" -> "TIMED_OUT", "InvalidUtf8" -> "INVALID_UTF8".</summary>
        internal static string ToScreamingSnake(string pascal)
        {
            return Regex.Replace(pascal, @"(?<=[a-z0-9])(?=[A-Z])", "_").ToUpperInvariant();
        }
    }
}
