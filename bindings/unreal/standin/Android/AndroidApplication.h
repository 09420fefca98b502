// Stand-in for Android/AndroidApplication.h.
#pragma once

#include "Android/AndroidJNI.h"

class FAndroidApplication {
public:
    static JNIEnv* GetJavaEnv(bool bRequireGlobalThis = true);
};
