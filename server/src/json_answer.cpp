#include "json_answer.hpp"

#include <sensorsys/common/json_text.hpp>

#include <Poco/SharedPtr.h>

namespace sensorsys::server {

namespace {

void write(std::string& out, const Poco::Dynamic::Var& value);

void writeObject(std::string& out, const Poco::JSON::Object& object) {
    out += '{';
    bool first = true;
    for (const auto& name : object.getNames()) {
        if (!first) out += ", ";
        first = false;
        appendJsonString(out, name);
        out += ": ";
        write(out, object.get(name));
    }
    out += '}';
}

void writeArray(std::string& out, const Poco::JSON::Array& array) {
    out += '[';
    for (std::size_t i = 0; i < array.size(); ++i) {
        if (i) out += ", ";
        write(out, array.get(static_cast<unsigned int>(i)));
    }
    out += ']';
}

void write(std::string& out, const Poco::Dynamic::Var& value) {
    if (value.isEmpty()) {
        out += "null";
    } else if (value.type() == typeid(Poco::JSON::Object::Ptr)) {
        writeObject(out, *value.extract<Poco::JSON::Object::Ptr>());
    } else if (value.type() == typeid(Poco::JSON::Array::Ptr)) {
        writeArray(out, *value.extract<Poco::JSON::Array::Ptr>());
    } else if (value.isString()) {
        appendJsonString(out, value.extract<std::string>());
    } else if (value.isBoolean()) {
        out += value.extract<bool>() ? "true" : "false";
    } else {
        out += value.convert<std::string>();  // numbers
    }
}

}  // namespace

Poco::JSON::Object::Ptr jsonObject(std::initializer_list<JsonMember> members) {
    auto object = Poco::makeShared<Poco::JSON::Object>(Poco::JSON_PRESERVE_KEY_ORDER);
    for (const auto& [name, value] : members) object->set(name, value);
    return object;
}

Poco::JSON::Array::Ptr jsonArray(std::initializer_list<Poco::Dynamic::Var> items) {
    auto array = Poco::makeShared<Poco::JSON::Array>();
    for (const auto& item : items) array->add(item);
    return array;
}

std::string jsonText(const Poco::Dynamic::Var& value) {
    std::string out;
    write(out, value);
    return out;
}

}  // namespace sensorsys::server
