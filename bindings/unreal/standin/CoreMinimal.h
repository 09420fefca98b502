// Stand-in for Unreal's CoreMinimal.h (see README.md): types, strings, containers, logging.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

// ---- platform (check.sh passes -DSTANDIN_PLATFORM_<NAME>=1) ----
#ifndef STANDIN_PLATFORM_WINDOWS
#define STANDIN_PLATFORM_WINDOWS 0
#endif
#ifndef STANDIN_PLATFORM_MAC
#define STANDIN_PLATFORM_MAC 0
#endif
#ifndef STANDIN_PLATFORM_LINUX
#define STANDIN_PLATFORM_LINUX 0
#endif
#ifndef STANDIN_PLATFORM_ANDROID
#define STANDIN_PLATFORM_ANDROID 0
#endif
#ifndef STANDIN_PLATFORM_IOS
#define STANDIN_PLATFORM_IOS 0
#endif
#ifndef STANDIN_ARM
#define STANDIN_ARM 0
#endif
#define PLATFORM_WINDOWS STANDIN_PLATFORM_WINDOWS
#define PLATFORM_MAC STANDIN_PLATFORM_MAC
#define PLATFORM_LINUX STANDIN_PLATFORM_LINUX
#define PLATFORM_ANDROID STANDIN_PLATFORM_ANDROID
#define PLATFORM_IOS STANDIN_PLATFORM_IOS
#define PLATFORM_CPU_ARM_FAMILY STANDIN_ARM
#define PLATFORM_CPU_X86_FAMILY (!STANDIN_ARM)
#define UE_BUILD_SHIPPING 0
#define UE_BUILD_DEVELOPMENT 1
#define WITH_EDITOR 0

// ---- basic types ----
typedef std::int8_t int8;
typedef std::int16_t int16;
typedef std::int32_t int32;
typedef std::int64_t int64;
typedef std::uint8_t uint8;
typedef std::uint16_t uint16;
typedef std::uint32_t uint32;
typedef std::uint64_t uint64;
typedef char ANSICHAR;
typedef char16_t TCHAR;  // as on Linux; Windows uses wchar_t
enum UTF8CHAR : unsigned char {};
#define TEXT(x) u##x

// ---- assertions (macros, as in the engine: identifiers named check/verify/ensure break) ----
#define check(expr) ((void)(expr))
#define checkf(expr, ...) ((void)(expr))
#define verify(expr) ((void)(expr))
#define ensure(expr) (!!(expr))
#define ensureMsgf(expr, ...) (!!(expr))

bool IsInGameThread();

template <typename T>
typename std::remove_reference<T>::type&& MoveTemp(T&& Obj) {
    static_assert(std::is_lvalue_reference<T>::value, "MoveTemp called on an rvalue");
    static_assert(!std::is_const<typename std::remove_reference<T>::type>::value, "MoveTemp called on a const object");
    return static_cast<typename std::remove_reference<T>::type&&>(Obj);
}

struct FMath {
    template <class T>
    static constexpr T Max(T A, T B) { return A < B ? B : A; }
    template <class T>
    static constexpr T Min(T A, T B) { return A < B ? A : B; }
};

// ---- strings ----
using FStringView = std::basic_string_view<TCHAR>;

class FString {
public:
    FString();
    FString(const TCHAR* Text);
    explicit FString(int32 InCount, const TCHAR* InSrc);
    FString(const FString&);
    FString(FString&&);
    FString& operator=(const FString&);
    FString& operator=(FString&&);
    FString& operator=(const TCHAR*);
    ~FString();

    const TCHAR* operator*() const;
    int32 Len() const;
    bool IsEmpty() const;
    void Reset(int32 NewReservedSize = 0);
    void Empty(int32 Slack = 0);
    bool operator==(const FString& Other) const;
    bool operator!=(const FString& Other) const;
    FString& operator+=(const FString& Other);

    // Checks that the format is a TCHAR string and the arguments are printf-able scalars/pointers.
    template <typename... Types>
    static FString Printf(const TCHAR* Fmt, Types... Args) {
        static_assert(((std::is_arithmetic<Types>::value || std::is_enum<Types>::value ||
                        std::is_pointer<Types>::value) && ...),
                      "FString::Printf arguments must be scalars or pointers (use *String)");
        (void)Fmt;
        ((void)Args, ...);
        return FString();
    }
};

class FName {
public:
    FName();
    FName(const TCHAR* Name);
    bool operator==(const FName& Other) const;
};

class FText {};

template <typename ToType, typename FromType>
class TStringConversionStandIn {
public:
    const ToType* Get() const;
    int32 Length() const;
};

template <typename To, typename From>
TStringConversionStandIn<To, From> StringCast(const From* Str, int32 Len);

// ---- containers and smart pointers ----
template <typename T>
class TArray {
public:
    int32 Num() const;
    void Reserve(int32 Number);
    int32 AddUnique(const T& Item);
    int32 Remove(const T& Item);
    bool Contains(const T& Item) const;
    int32 Add(const T& Item);
    int32 Add(T&& Item);
    void Empty(int32 Slack = 0);
    T* begin();
    T* end();
    const T* begin() const;
    const T* end() const;
};

template <typename KeyType, typename ValueType>
class TMap {
public:
    ValueType& Add(const KeyType& Key, ValueType&& Value);
    ValueType& Add(const KeyType& Key, const ValueType& Value);
    ValueType* Find(const KeyType& Key);
    const ValueType* Find(const KeyType& Key) const;
    bool Contains(const KeyType& Key) const;
    int32 Remove(const KeyType& Key);
    bool RemoveAndCopyValue(const KeyType& Key, ValueType& OutRemovedValue);
    ValueType FindAndRemoveChecked(const KeyType& Key);
    void Empty(int32 ExpectedNumElements = 0);
    int32 Num() const;
};

template <typename OptionalType>
class TOptional {
public:
    TOptional();
    bool IsSet() const;
    template <typename... ArgTypes>
    OptionalType& Emplace(ArgTypes&&... Args);
    void Reset();
    OptionalType& GetValue();
    const OptionalType& GetValue() const;
    OptionalType* operator->();
    const OptionalType* operator->() const;
    OptionalType& operator*();
};

template <typename FuncType>
using TFunction = std::function<FuncType>;

template <typename T>
using TUniquePtr = std::unique_ptr<T>;

template <typename T, typename... ArgTypes>
TUniquePtr<T> MakeUnique(ArgTypes&&... Args);

template <typename ObjectType>
class TSharedPtr {
public:
    bool IsValid() const;
    ObjectType* Get() const;
    ObjectType* operator->() const;
    ObjectType& operator*() const;
};

template <typename ObjectType>
class TWeakPtr {
public:
    bool IsValid() const;
    void Reset();
};

// ---- delegates ----
class FDelegateHandle {
public:
    bool IsValid() const;
    void Reset();
};

template <typename FuncType>
class TMulticastDelegate;

template <typename... ParamTypes>
class TMulticastDelegate<void(ParamTypes...)> {
public:
    template <typename UserClass>
    FDelegateHandle AddRaw(UserClass* InUserObject, void (UserClass::*InFunc)(ParamTypes...));
    template <typename UserClass>
    FDelegateHandle AddUObject(UserClass* InUserObject, void (UserClass::*InFunc)(ParamTypes...));
    FDelegateHandle AddLambda(std::function<void(ParamTypes...)> Lambda);
    bool Remove(FDelegateHandle Handle);
    void Broadcast(ParamTypes... Params) const;
};

using FSimpleMulticastDelegate = TMulticastDelegate<void()>;

// ---- logging ----
namespace ELogVerbosity {
enum Type : uint8 { NoLogging, Fatal, Error, Warning, Display, Log, Verbose, VeryVerbose, All };
}

struct FLogCategoryBase {
    FLogCategoryBase(const TCHAR* Name, ELogVerbosity::Type DefaultVerbosity, ELogVerbosity::Type CompileTimeVerbosity);
    ELogVerbosity::Type GetVerbosity() const;
    void SetVerbosity(ELogVerbosity::Type Verbosity);
};

template <ELogVerbosity::Type DefaultVerbosity, ELogVerbosity::Type CompileTimeVerbosity>
struct FLogCategory : public FLogCategoryBase {
    FLogCategory(const TCHAR* Name);
};

#define DECLARE_LOG_CATEGORY_EXTERN(CategoryName, DefaultVerbosity, CompileTimeVerbosity)                         \
    extern struct FLogCategory##CategoryName                                                                      \
        : public FLogCategory<ELogVerbosity::DefaultVerbosity, ELogVerbosity::CompileTimeVerbosity> {             \
        FLogCategory##CategoryName()                                                                              \
            : FLogCategory<ELogVerbosity::DefaultVerbosity, ELogVerbosity::CompileTimeVerbosity>(TEXT(#CategoryName)) {} \
    } CategoryName;
#define DEFINE_LOG_CATEGORY(CategoryName) FLogCategory##CategoryName CategoryName;

namespace StandIn {
template <typename Category, typename... Types>
void Log(const Category&, ELogVerbosity::Type, const TCHAR* Fmt, Types... Args) {
    (void)FString::Printf(Fmt, Args...);
}
}  // namespace StandIn
#define UE_LOG(CategoryName, Verbosity, Format, ...) \
    ::StandIn::Log(CategoryName, ELogVerbosity::Verbosity, Format, ##__VA_ARGS__)

#define LOCTEXT(Key, Text) FText()

// ---- third-party headers (HAL/Platform.h): the engine silences their warnings (-Wundef...) ----
#define THIRD_PARTY_INCLUDES_START _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wundef\"")
#define THIRD_PARTY_INCLUDES_END _Pragma("GCC diagnostic pop")
