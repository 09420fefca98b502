// Stand-in for Android/AndroidJNI.h (and the parts of <jni.h> the plugin uses).
#pragma once

#include "CoreMinimal.h"

typedef void* jobject;
typedef int32 jint;
#define JNI_OK 0

struct JavaVM;

struct JNIEnv {
    jint GetJavaVM(JavaVM** vm);
};

class FJavaWrapper {
public:
    static jobject GameActivityThis;
};
