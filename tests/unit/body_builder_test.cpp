// BodyBuilder: request bodies for POST /readings/bulk, built again and again by one builder.
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <Poco/InflatingStream.h>
#include <Poco/StreamCopier.h>

#include <gtest/gtest.h>

#include "sync/bulk_client.hpp"

namespace sensorsys::agent {
namespace {

std::string gunzip(const std::string& bytes) {
    std::istringstream in(bytes);
    Poco::InflatingInputStream inflate(in, Poco::InflatingStreamBuf::STREAM_GZIP);
    std::string out;
    Poco::StreamCopier::copyToString(inflate, out);
    return out;
}

TEST(BodyBuilder, OneBuilderReusedMakesEveryBodyWhole) {
    // The builder keeps its buffers and zlib state between bodies: a small body after a large
    // one, plain between gzip ones, must each come out complete and on their own.
    auto items = [](int n, char tag) {
        std::vector<std::string> out;
        for (int i = 0; i < n; ++i) {
            out.push_back(R"({"reading_id":")" + std::string(1, tag) + std::to_string(i) +
                          R"(","payload":{"v":)" + std::to_string(i * 7919 % 1000) + "}}");
        }
        return out;
    };
    auto expected = [](const std::vector<std::string>& batch) {
        std::string json = R"({"readings":[)";
        for (std::size_t i = 0; i < batch.size(); ++i) json += (i ? "," : "") + batch[i];
        return json + "]}";
    };
    BodyBuilder builder;
    for (const auto& [n, tag, gzip] : std::vector<std::tuple<int, char, bool>>{{360, 'a', true},
                                                                               {2, 'b', true},
                                                                               {360, 'c', false},
                                                                               {1, 'd', true},
                                                                               {500, 'e', true}}) {
        const auto batch = items(n, tag);
        const BulkBody body = builder.build({batch.begin(), batch.end()}, gzip);
        EXPECT_EQ(body.count, static_cast<std::size_t>(n));
        EXPECT_EQ(body.gzip, gzip);
        EXPECT_EQ(gzip ? gunzip(body.bytes) : body.bytes, expected(batch)) << n << tag;
        if (gzip) {
            EXPECT_LT(body.bytes.size(), expected(batch).size() / 2 + 64) << n << tag;
        }
    }
}

}  // namespace
}  // namespace sensorsys::agent
