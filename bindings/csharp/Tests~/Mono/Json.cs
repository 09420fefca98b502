using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Xo.Tracker.Tests
{
    /// <summary>
    /// A small, strict JSON reader for the package checks (package.json, assembly definitions).
    /// Objects become Dictionary&lt;string, object&gt;, arrays List&lt;object&gt;, strings string, numbers
    /// Json.Number (raw text), true/false bool, null null. (The binding itself reads no JSON: order
    /// contents arrive typed, as xo_contents.)
    /// </summary>
    internal static class Json
    {
        private const int MaxDepth = 64;

        internal sealed class Number
        {
            public Number(string text)
            {
                Text = text;
            }

            public string Text { get; private set; }

            public override string ToString()
            {
                return Text;
            }
        }

        /// <summary>Parses a document; throws FormatException when it is not valid JSON.</summary>
        public static object Parse(string text)
        {
            if (text == null)
                throw new ArgumentNullException("text");
            var reader = new Reader(text);
            var value = reader.ReadValue(0);
            reader.SkipWhitespace();
            if (!reader.AtEnd)
                throw reader.Error("trailing characters");
            return value;
        }

        public static object Get(Dictionary<string, object> obj, string key)
        {
            object value;
            return obj != null && obj.TryGetValue(key, out value) ? value : null;
        }

        /// <summary>A string, a number's text, or "true"/"false"; null otherwise.</summary>
        public static string AsString(object value)
        {
            if (value is string)
                return (string)value;
            if (value is Number)
                return ((Number)value).Text;
            if (value is bool)
                return (bool)value ? "true" : "false";
            return null;
        }

        /// <summary>true, or the string "true"; false for anything else.</summary>
        public static bool AsBool(object value)
        {
            if (value is bool)
                return (bool)value;
            return value is string && string.Equals((string)value, "true", StringComparison.OrdinalIgnoreCase);
        }

        private sealed class Reader
        {
            private readonly string _text;
            private int _pos;

            public Reader(string text)
            {
                _text = text;
            }

            public bool AtEnd
            {
                get { return _pos >= _text.Length; }
            }

            public FormatException Error(string what)
            {
                return new FormatException("invalid JSON at " + _pos + ": " + what);
            }

            public void SkipWhitespace()
            {
                while (_pos < _text.Length)
                {
                    var c = _text[_pos];
                    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                        break;
                    _pos++;
                }
            }

            public object ReadValue(int depth)
            {
                if (depth > MaxDepth)
                    throw Error("nested too deeply");
                SkipWhitespace();
                if (AtEnd)
                    throw Error("unexpected end");
                var c = _text[_pos];
                switch (c)
                {
                    case '{':
                        return ReadObject(depth);
                    case '[':
                        return ReadArray(depth);
                    case '"':
                        return ReadString();
                    case 't':
                        Expect("true");
                        return true;
                    case 'f':
                        Expect("false");
                        return false;
                    case 'n':
                        Expect("null");
                        return null;
                    default:
                        if (c == '-' || (c >= '0' && c <= '9'))
                            return ReadNumber();
                        throw Error("unexpected '" + c + "'");
                }
            }

            private void Expect(string word)
            {
                if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0)
                    throw Error("expected " + word);
                _pos += word.Length;
            }

            private Dictionary<string, object> ReadObject(int depth)
            {
                var obj = new Dictionary<string, object>(StringComparer.Ordinal);
                _pos++; // {
                SkipWhitespace();
                if (!AtEnd && _text[_pos] == '}')
                {
                    _pos++;
                    return obj;
                }
                while (true)
                {
                    SkipWhitespace();
                    if (AtEnd || _text[_pos] != '"')
                        throw Error("expected a key");
                    var key = ReadString();
                    SkipWhitespace();
                    if (AtEnd || _text[_pos] != ':')
                        throw Error("expected ':'");
                    _pos++;
                    obj[key] = ReadValue(depth + 1);
                    SkipWhitespace();
                    if (AtEnd)
                        throw Error("unterminated object");
                    if (_text[_pos] == ',')
                    {
                        _pos++;
                        continue;
                    }
                    if (_text[_pos] == '}')
                    {
                        _pos++;
                        return obj;
                    }
                    throw Error("expected ',' or '}'");
                }
            }

            private List<object> ReadArray(int depth)
            {
                var list = new List<object>();
                _pos++; // [
                SkipWhitespace();
                if (!AtEnd && _text[_pos] == ']')
                {
                    _pos++;
                    return list;
                }
                while (true)
                {
                    list.Add(ReadValue(depth + 1));
                    SkipWhitespace();
                    if (AtEnd)
                        throw Error("unterminated array");
                    if (_text[_pos] == ',')
                    {
                        _pos++;
                        continue;
                    }
                    if (_text[_pos] == ']')
                    {
                        _pos++;
                        return list;
                    }
                    throw Error("expected ',' or ']'");
                }
            }

            private string ReadString()
            {
                _pos++; // opening quote
                var sb = new StringBuilder();
                while (true)
                {
                    if (AtEnd)
                        throw Error("unterminated string");
                    var c = _text[_pos++];
                    if (c == '"')
                        return sb.ToString();
                    if (c < 0x20)
                        throw Error("control character in string");
                    if (c != '\\')
                    {
                        sb.Append(c);
                        continue;
                    }
                    if (AtEnd)
                        throw Error("unterminated escape");
                    var e = _text[_pos++];
                    switch (e)
                    {
                        case '"': sb.Append('"'); break;
                        case '\\': sb.Append('\\'); break;
                        case '/': sb.Append('/'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'n': sb.Append('\n'); break;
                        case 'r': sb.Append('\r'); break;
                        case 't': sb.Append('\t'); break;
                        case 'u':
                            int code;
                            if (_pos + 4 > _text.Length || !int.TryParse(_text.Substring(_pos, 4), NumberStyles.AllowHexSpecifier,
                                    CultureInfo.InvariantCulture, out code))
                                throw Error("bad \\u escape");
                            sb.Append((char)code);
                            _pos += 4;
                            break;
                        default:
                            throw Error("bad escape");
                    }
                }
            }

            private Number ReadNumber()
            {
                var start = _pos;
                if (_text[_pos] == '-')
                    _pos++;
                var digits = _pos;
                while (!AtEnd && ((_text[_pos] >= '0' && _text[_pos] <= '9') || _text[_pos] == '.' ||
                                  _text[_pos] == 'e' || _text[_pos] == 'E' || _text[_pos] == '+' || _text[_pos] == '-'))
                    _pos++;
                var text = _text.Substring(start, _pos - start);
                double ignored;
                if (_pos == digits || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out ignored))
                    throw Error("bad number");
                return new Number(text);
            }
        }
    }
}
