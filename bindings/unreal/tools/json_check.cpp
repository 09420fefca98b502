// Validates that a file is one JSON value (RFC 8259), so check.sh needs no Python or jq.
// Usage: json_check <file>; exit 0 if valid, else prints where it failed.
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace {
struct Parser {
    const std::string& s;
    size_t i = 0;
    bool fail = false;

    void ws() { while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++; }
    bool eat(char c) { ws(); if (i < s.size() && s[i] == c) { i++; return true; } return false; }
    bool literal(const char* word) {
        size_t n = std::char_traits<char>::length(word);
        if (s.compare(i, n, word) == 0) { i += n; return true; }
        return false;
    }
    bool string() {
        if (!eat('"')) return false;
        while (i < s.size()) {
            unsigned char c = static_cast<unsigned char>(s[i++]);
            if (c == '"') return true;
            if (c < 0x20) return false;
            if (c == '\\') {
                if (i >= s.size()) return false;
                char e = s[i++];
                if (e == 'u') {
                    for (int k = 0; k < 4; k++)
                        if (i >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i++]))) return false;
                } else if (std::string("\"\\/bfnrt").find(e) == std::string::npos) {
                    return false;
                }
            }
        }
        return false;
    }
    bool number() {
        size_t start = i;
        if (i < s.size() && s[i] == '-') i++;
        if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
        if (s[i] == '0') i++; else while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) i++;
        if (i < s.size() && s[i] == '.') {
            i++;
            if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
            while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) i++;
        }
        if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
            i++;
            if (i < s.size() && (s[i] == '+' || s[i] == '-')) i++;
            if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
            while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) i++;
        }
        return i > start;
    }
    bool value(int depth) {
        if (depth > 64) return false;
        ws();
        if (i >= s.size()) return false;
        char c = s[i];
        if (c == '{') {
            i++;
            if (eat('}')) return true;
            do {
                ws();
                if (!string() || !eat(':') || !value(depth + 1)) return false;
            } while (eat(','));
            return eat('}');
        }
        if (c == '[') {
            i++;
            if (eat(']')) return true;
            do {
                if (!value(depth + 1)) return false;
            } while (eat(','));
            return eat(']');
        }
        if (c == '"') return string();
        if (c == 't') return literal("true");
        if (c == 'f') return literal("false");
        if (c == 'n') return literal("null");
        return number();
    }
};
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) { std::fprintf(stderr, "usage: json_check <file>\n"); return 2; }
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) { std::fprintf(stderr, "cannot read %s\n", argv[1]); return 2; }
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    Parser p{text};
    bool ok = p.value(0);
    p.ws();
    if (!ok || p.i != text.size()) {
        std::fprintf(stderr, "%s: invalid JSON near byte %zu\n", argv[1], p.i);
        return 1;
    }
    return 0;
}
