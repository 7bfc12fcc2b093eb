#include <sensorsys/common/json_cursor.hpp>

namespace sensorsys {

namespace {

// Appends code point cp (at most U+10FFFF, no surrogate) as UTF-8.
void appendUtf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

}  // namespace

const char* JsonCursor::kindName(Kind kind) {
    switch (kind) {
        case Kind::Null:
            return "null";
        case Kind::Boolean:
            return "boolean";
        case Kind::Number:
            return "number";
        case Kind::String:
            return "string";
        case Kind::Object:
            return "object";
        case Kind::Array:
            return "array";
    }
    return "value";
}

void JsonCursor::fail(const std::string& what, JsonSyntaxError::Problem problem) const {
    throw JsonSyntaxError(what, _pos, problem);
}

void JsonCursor::ws() {
    while (_pos < _text.size()) {
        const char c = _text[_pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        ++_pos;
    }
}

void JsonCursor::expect(char c) {
    ws();
    if (_pos >= _text.size()) fail(std::string("unexpected end of text, expected '") + c + "'");
    if (_text[_pos] != c) fail(std::string("expected '") + c + "'");
    ++_pos;
}

JsonCursor::Kind JsonCursor::peek() {
    ws();
    if (_pos >= _text.size()) fail("unexpected end of text, expected a value");
    switch (_text[_pos]) {
        case '{':
            return Kind::Object;
        case '[':
            return Kind::Array;
        case '"':
            return Kind::String;
        case 't':
        case 'f':
            return Kind::Boolean;
        case 'n':
            return Kind::Null;
        default:
            if (_text[_pos] == '-' || (_text[_pos] >= '0' && _text[_pos] <= '9'))
                return Kind::Number;
    }
    fail("expected a value");
}

void JsonCursor::literal(std::string_view word) {
    if (_text.substr(_pos, word.size()) != word) fail("invalid literal");
    _pos += word.size();
}

void JsonCursor::skipNumber() {
    const std::size_t start = _pos;
    auto digit = [&] { return _pos < _text.size() && _text[_pos] >= '0' && _text[_pos] <= '9'; };
    if (_text[_pos] == '-') ++_pos;
    if (!digit()) fail("invalid number");
    if (_text[_pos] == '0') {
        ++_pos;
    } else {
        while (digit()) ++_pos;
    }
    if (_pos < _text.size() && _text[_pos] == '.') {
        ++_pos;
        if (!digit()) fail("invalid number");
        while (digit()) ++_pos;
    }
    if (_pos < _text.size() && (_text[_pos] == 'e' || _text[_pos] == 'E')) {
        ++_pos;
        bool negative = false;
        if (_pos < _text.size() && (_text[_pos] == '+' || _text[_pos] == '-'))
            negative = _text[_pos++] == '-';
        if (!digit()) fail("invalid number");
        int exponent = 0;
        while (digit()) {
            if (exponent <= kMaxJsonExponent) exponent = exponent * 10 + (_text[_pos] - '0');
            ++_pos;
        }
        (void)negative;
        if (exponent > kMaxJsonExponent) {
            fail("number out of range (exponent beyond " + std::to_string(kMaxJsonExponent) + ")",
                 JsonSyntaxError::Problem::Unstorable);
        }
    }
    if (_pos - start > kMaxJsonNumberChars) {
        fail("number out of range (more than " + std::to_string(kMaxJsonNumberChars) +
                 " characters)",
             JsonSyntaxError::Problem::Unstorable);
    }
}

std::string_view JsonCursor::readNumber() {
    if (peek() != Kind::Number) fail("expected a number");
    const std::size_t start = _pos;
    skipNumber();
    return slice(start, _pos);
}

unsigned JsonCursor::hex4() {
    if (_pos + 4 > _text.size()) fail("unexpected end of text in \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
        const char c = _text[_pos++];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= static_cast<unsigned>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= static_cast<unsigned>(c - 'A' + 10);
        } else {
            fail("invalid \\u escape");
        }
    }
    return v;
}

std::string JsonCursor::readString() {
    ws();
    if (_pos >= _text.size() || _text[_pos] != '"') fail("expected a string");
    ++_pos;
    std::string out;
    while (true) {
        if (_pos >= _text.size()) fail("unexpected end of text in a string");
        const char c = _text[_pos];
        if (c == '"') {
            ++_pos;
            return out;
        }
        if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
        ++_pos;
        if (c == '\\') {
            readEscape(out);
        } else {
            out.push_back(c);
        }
    }
}

// After the backslash: appends what the escape stands for.
void JsonCursor::readEscape(std::string& out) {
    if (_pos >= _text.size()) fail("unexpected end of text in a string");
    const char e = _text[_pos++];
    switch (e) {
        case '"':
        case '\\':
        case '/':
            out.push_back(e);
            return;
        case 'b':
            out.push_back('\b');
            return;
        case 'f':
            out.push_back('\f');
            return;
        case 'n':
            out.push_back('\n');
            return;
        case 'r':
            out.push_back('\r');
            return;
        case 't':
            out.push_back('\t');
            return;
        case 'u':
            break;
        default:
            --_pos;
            fail("invalid escape in a string");
    }
    unsigned cp = hex4();
    if (cp == 0) {
        fail("\\u0000 is not allowed (PostgreSQL cannot store NUL characters)",
             JsonSyntaxError::Problem::Unstorable);
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF) fail("unpaired low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (_text.substr(_pos, 2) != "\\u") fail("unpaired high surrogate in \\u escape");
        _pos += 2;
        const unsigned low = hex4();
        if (low < 0xDC00 || low > 0xDFFF) fail("unpaired high surrogate in \\u escape");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    appendUtf8(out, cp);
}

void JsonCursor::requireDepth(int depth) const {
    if (depth >= _maxDepth) {
        fail("nested too deeply (more than " + std::to_string(_maxDepth) + " levels)",
             JsonSyntaxError::Problem::TooDeep);
    }
}

void JsonCursor::beginObject(int depth) {
    requireDepth(depth);
    expect('{');
}

bool JsonCursor::nextKey(bool& first, std::string& key) {
    ws();
    if (_pos < _text.size() &&
        _text[_pos] == '}') {  // "{}" or after a member ("{ ...,}" fails below)
        ++_pos;
        return false;
    }
    if (!first) expect(',');
    first = false;
    key = readString();
    expect(':');
    return true;
}

void JsonCursor::beginArray(int depth) {
    requireDepth(depth);
    expect('[');
}

bool JsonCursor::nextElement(bool& first) {
    ws();
    if (_pos < _text.size() && _text[_pos] == ']') {
        ++_pos;
        return false;
    }
    if (!first) expect(',');
    first = false;
    return true;
}

void JsonCursor::skipValue(int depth) {
    switch (peek()) {
        case Kind::Null:
            literal("null");
            return;
        case Kind::Boolean:
            literal(_text[_pos] == 't' ? "true" : "false");
            return;
        case Kind::Number:
            skipNumber();
            return;
        case Kind::String:
            readString();
            return;
        case Kind::Object: {
            beginObject(depth);
            bool first = true;
            std::string key;
            while (nextKey(first, key)) skipValue(depth + 1);
            return;
        }
        case Kind::Array: {
            beginArray(depth);
            bool first = true;
            while (nextElement(first)) skipValue(depth + 1);
            return;
        }
    }
}

void JsonCursor::end() {
    ws();
    if (_pos != _text.size()) fail("unexpected text after the JSON value");
}

}  // namespace sensorsys
