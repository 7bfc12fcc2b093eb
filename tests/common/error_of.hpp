// errorOf<E>(action): the what() of the E that `action` throws, for asserting on messages;
// records a test failure when nothing is thrown.
#pragma once

#include <functional>
#include <string>

#include <gtest/gtest.h>

namespace sensorsys::test {

template <class Error>
std::string errorOf(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected an exception";
    return {};
}

}  // namespace sensorsys::test
