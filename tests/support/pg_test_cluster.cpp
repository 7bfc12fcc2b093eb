#include "pg_test_cluster.hpp"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Process.h>
#include <Poco/Random.h>

#include <unistd.h>
#include <fstream>
#include <stdexcept>

namespace sensorsys::test {

using namespace Poco::Data::Keywords;

namespace {

std::string infoValue(const std::string& infoFile, const std::string& key) {
    std::ifstream in(infoFile);
    if (!in) throw std::runtime_error("no PostgreSQL test cluster info in " + infoFile);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
    }
    throw std::runtime_error(key + " missing in " + infoFile);
}

Poco::Data::Session adminSession(const std::string& admin) {
    Poco::Data::PostgreSQL::Connector::registerConnector();
    Poco::Data::Session s("PostgreSQL", admin);
    s << "SET client_min_messages = warning", now;
    return s;
}

}  // namespace

std::string clusterConnection(const std::string& infoFile) {
    return infoValue(infoFile, "CONNINFO");
}

TemporaryDatabase::TemporaryDatabase(const std::string& infoFile, const std::string& prefix)
    : _admin(clusterConnection(infoFile)) {
    Poco::Random random;
    random.seed();
    _name = prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(random.next());
    auto s = adminSession(_admin);
    s << "CREATE DATABASE " + _name + " TEMPLATE template0", now;
    const auto pos = _admin.find("dbname=");
    _connection = _admin.substr(0, pos) + "dbname=" + _name;
}

TemporaryDatabase::~TemporaryDatabase() {
    try {
        auto s = adminSession(_admin);
        s << "DROP DATABASE IF EXISTS " + _name + " WITH (FORCE)", now;
    } catch (...) {
        // The cluster is deleted by the fixture's cleanup anyway.
    }
}

void TemporaryDatabase::execute(const std::string& sql) const {
    Poco::Data::PostgreSQL::Connector::registerConnector();
    Poco::Data::Session s("PostgreSQL", _connection);
    s << "SET client_min_messages = warning", now;
    s << sql, now;
}

PrivateCluster::PrivateCluster(const std::string& infoFile) : _info(infoFile) {
    script("start");
}

PrivateCluster::PrivateCluster(const std::string& infoFile, const PrivateCluster& primary)
    : _info(infoFile) {
    script("replica", primary.infoFile());
}

PrivateCluster::~PrivateCluster() {
    try {
        script("stop");
    } catch (...) {
        // nothing more to do in a destructor
    }
}

void PrivateCluster::pause() {
    script("pause");
}
void PrivateCluster::resume() {
    script("resume");
}

void PrivateCluster::script(const std::string& command, const std::string& extra) const {
    Poco::Process::Args args{command, _info};
    if (!extra.empty()) args.push_back(extra);
    Poco::ProcessHandle ph = Poco::Process::launch(SENSORSYS_PG_CLUSTER_SCRIPT, args);
    if (ph.wait() != 0) throw std::runtime_error("pg_cluster.sh " + command + " failed");
}

}  // namespace sensorsys::test
