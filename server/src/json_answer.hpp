// Cold-path JSON answers (error bodies and their details, /health, /auth/check) built as
// Poco::JSON values and written in the one style every answer of the API has always had:
// `{"key": value, "next": [1, 2]}` on one line, strings escaped by appendJsonString (bytes
// that are not UTF-8 become \ufffd, '/' stays '/'). Poco's own stringify writes
// `{"key":value}` and `\/`, which clients and tests that compare the text would see.
// Hot paths (the rows of GET /readings) keep splicing text. Pure functions; thread-safe.
#pragma once

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <initializer_list>
#include <string>
#include <utility>

namespace sensorsys::server {

using JsonMember = std::pair<std::string, Poco::Dynamic::Var>;

// An object keeping its members in the order given (an empty Var is null).
Poco::JSON::Object::Ptr jsonObject(std::initializer_list<JsonMember> members);
Poco::JSON::Array::Ptr jsonArray(std::initializer_list<Poco::Dynamic::Var> items = {});

// value as JSON text in the API's style.
std::string jsonText(const Poco::Dynamic::Var& value);

}  // namespace sensorsys::server
